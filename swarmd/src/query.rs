//! The query string of a request and the Engine API's `filters` parameter.

use crate::api_error::ApiError;
use std::collections::BTreeMap;

/// Most query parameters read from one request; the rest are ignored. Worst case: 64 short
/// strings per request.
pub(crate) const MAX_QUERY_PARAMS: usize = 64;

/// The decoded `key=value` pairs of a query string (the last value of a key wins).
#[derive(Debug, Default)]
pub(crate) struct Query {
    params: BTreeMap<String, String>,
}

impl Query {
    /// Parses `a=1&b=x%20y` (`+` is a space).
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        let mut params = BTreeMap::new();
        for pair in raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .take(MAX_QUERY_PARAMS)
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.insert(decode(k), decode(v));
        }
        Query { params }
    }

    /// The value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// A boolean parameter as dockerd reads it: absent, empty, `0`, `false` or `no` is false.
    pub(crate) fn flag(&self, key: &str) -> bool {
        !matches!(
            self.get(key),
            None | Some("" | "0" | "false" | "no" | "False")
        )
    }

    /// An unsigned number; absent is `None`, anything else that is not a number is a 400.
    pub(crate) fn number(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!("invalid value for {key}: {v:?} is not a number"))
            }),
        }
    }

    /// The `filters` parameter.
    pub(crate) fn filters(&self) -> Result<Filters, ApiError> {
        Filters::parse(self.get("filters"))
    }
}

/// Percent-decoding of one query component.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `filters` parameter: `{"name":{"web":true}}` (or the older `{"name":["web"]}`), each
/// key with the values given.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Filters {
    values: BTreeMap<String, Vec<String>>,
}

impl Filters {
    /// Parses the JSON of the parameter; absent or empty is no filter.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Filters, ApiError> {
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return Ok(Filters::default());
        };
        let value: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| ApiError::bad_request(format!("invalid filter: {e}")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(ApiError::bad_request("invalid filter: not a JSON object"));
        };
        let mut values = BTreeMap::new();
        for (key, v) in map {
            let list: Vec<String> = match v {
                serde_json::Value::Object(m) => m
                    .into_iter()
                    .filter(|(_, on)| on.as_bool().unwrap_or(false))
                    .map(|(k, _)| k)
                    .collect(),
                serde_json::Value::Array(a) => a
                    .into_iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect(),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "invalid filter {key:?}: expected an object of values"
                    )));
                }
            };
            values.insert(key, list);
        }
        Ok(Filters { values })
    }

    /// The values of `key` (empty when absent).
    pub(crate) fn get(&self, key: &str) -> &[String] {
        self.values.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Refuses keys outside `allowed`, as dockerd does (`invalid filter 'x'`).
    pub(crate) fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.values.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::bad_request(format!("invalid filter '{k}'"))),
            None => Ok(()),
        }
    }

    /// `label` values as key → optional value (`k` or `k=v`).
    pub(crate) fn labels(&self) -> BTreeMap<String, Option<String>> {
        self.get("label")
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (l.clone(), None),
            })
            .collect()
    }
}

/// Whether `labels` hold every wanted label (a `None` value matches any value).
pub(crate) fn labels_match(
    wanted: &BTreeMap<String, Option<String>>,
    labels: &BTreeMap<String, String>,
) -> bool {
    wanted.iter().all(|(k, v)| match (labels.get(k), v) {
        (Some(_), None) => true,
        (Some(have), Some(want)) => have == want,
        (None, _) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_clis_task_filter() {
        let q = Query::parse(Some(
            "filters=%7B%22_up-to-date%22%3A%7B%22true%22%3Atrue%7D%2C%22service%22%3A%7B%22n0cp%22%3Atrue%7D%7D&x=a+b",
        ));
        let f = q.filters().unwrap();
        assert_eq!(f.get("service"), ["n0cp".to_owned()]);
        assert_eq!(f.get("_up-to-date"), ["true".to_owned()]);
        assert_eq!(q.get("x"), Some("a b"));
        assert!(f.only(&["service"]).is_err());
    }

    #[test]
    fn reads_the_older_list_form_and_labels() {
        let f =
            Filters::parse(Some(r#"{"label":["com.docker.stack.namespace=demo","x"]}"#)).unwrap();
        let labels = f.labels();
        assert_eq!(
            labels.get("com.docker.stack.namespace"),
            Some(&Some("demo".to_owned()))
        );
        assert_eq!(labels.get("x"), Some(&None));
    }

    #[test]
    fn flags_and_numbers() {
        let q = Query::parse(Some("force=1&version=17&status=true&tail=all"));
        assert!(q.flag("force") && q.flag("status") && !q.flag("absent"));
        assert_eq!(q.number("version").unwrap(), Some(17));
        assert!(q.number("tail").is_err());
    }
}
