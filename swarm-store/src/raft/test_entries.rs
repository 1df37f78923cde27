//! Log entries for the tests of this module's adapters.

use super::types::{Entry, log_id};
use crate::blob::Blob;
use crate::state::command::{OpKind, RequestId, TxnOp, TxnOrigin, TxnRequest, WriteBatch};
use crate::txn::Precondition;
use bytes::Bytes;

/// An entry at `term`/`index` carrying one write of a 256-byte value.
pub(crate) fn batch_entry(term: u64, index: u64) -> Entry {
    let txn = TxnRequest {
        id: RequestId {
            origin: TxnOrigin {
                member: 1,
                incarnation: 7,
            },
            seq: index,
        },
        ops: vec![TxnOp {
            collection: "services".into(),
            key: format!("web-{index}"),
            precondition: Precondition::Any,
            kind: OpKind::Put(Blob(Bytes::from(vec![b'x'; 256]))),
        }],
    };
    openraft::Entry {
        log_id: log_id(term, index),
        payload: openraft::EntryPayload::Normal(WriteBatch {
            txns: vec![txn].into(),
        }),
    }
}
