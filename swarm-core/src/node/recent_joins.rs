//! The last joins a manager admitted, by certificate request, so that a join request
//! delivered twice (a retransmission) gets the first answer again instead of a second node
//! record that no node will ever bring up (seed 265 of the simulation).

use crate::model::secret_data::constant_time_eq;
use crate::node::wire::NodeReply;
use std::collections::VecDeque;
use zeroize::Zeroizing;

/// The most joins remembered: a retransmission follows its request within a call timeout,
/// and joins come one at a time per node, so a handful covers it; each entry is a
/// certificate request and an answer with two certificates (a few KiB).
pub(crate) const MAX_RECENT_JOINS: usize = 16;

/// Answers of recent joins by the certificate request they signed and the token they
/// presented (a request without the token gets nothing), oldest first, at most
/// [`MAX_RECENT_JOINS`].
#[derive(Default)]
pub(crate) struct RecentJoins {
    entries: VecDeque<(Vec<u8>, Zeroizing<String>, NodeReply)>,
}

impl std::fmt::Debug for RecentJoins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentJoins")
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl RecentJoins {
    /// The answer given to the join that sent `csr_der` with `token`, if remembered. The
    /// token is compared in constant time.
    pub(crate) fn answer(&self, csr_der: &[u8], token: &str) -> Option<NodeReply> {
        self.entries
            .iter()
            .find(|(csr, t, _)| {
                csr.as_slice() == csr_der && constant_time_eq(t.as_bytes(), token.as_bytes())
            })
            .map(|(_, _, reply)| reply.clone())
    }

    /// Remembers the answer to the join that sent `csr_der` with `token`; forgets the oldest
    /// beyond [`MAX_RECENT_JOINS`].
    pub(crate) fn remember(
        &mut self,
        csr_der: Vec<u8>,
        token: Zeroizing<String>,
        reply: NodeReply,
    ) {
        if self.entries.len() == MAX_RECENT_JOINS {
            self.entries.pop_front();
        }
        self.entries.push_back((csr_der, token, reply));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::wire::RemoteRefusal;

    fn reply(n: usize) -> NodeReply {
        NodeReply::Refused(RemoteRefusal {
            kind: crate::node::wire::RefusalKind::Refused,
            message: format!("answer {n}"),
        })
    }

    #[test]
    fn seed_265_a_join_request_delivered_twice_gets_its_first_answer_and_the_memory_is_bounded() {
        let mut joins = RecentJoins::default();
        let token = || Zeroizing::new("token".to_owned());
        joins.remember(b"csr-0".to_vec(), token(), reply(0));
        assert!(
            matches!(joins.answer(b"csr-0", "token"), Some(NodeReply::Refused(r)) if r.message == "answer 0")
        );
        assert!(joins.answer(b"csr-0", "another token").is_none());
        assert!(joins.answer(b"csr-1", "token").is_none());
        for n in 1..=MAX_RECENT_JOINS {
            joins.remember(format!("csr-{n}").into_bytes(), token(), reply(n));
        }
        assert_eq!(joins.entries.len(), MAX_RECENT_JOINS);
        assert!(
            joins.answer(b"csr-0", "token").is_none(),
            "the oldest is forgotten"
        );
        assert!(
            joins
                .answer(format!("csr-{MAX_RECENT_JOINS}").as_bytes(), "token")
                .is_some()
        );
    }
}
