use serde::Serialize;
use serde_json::Value;

/// Serializes `value` as compact JSON with object keys sorted at every level.
///
/// Image configs carry labels in hash maps; sorting keys makes the bytes, and so the digest, depend only on the
/// content. That keeps unchanged images at the same digest across runs.
///
/// # Errors
/// When `value` cannot be represented as JSON.
pub(crate) fn canonical_json<T: Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    let value = sort_keys(serde_json::to_value(value)?);
    serde_json::to_vec(&value)
}

fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn keys_are_sorted_whatever_the_map_order() {
        let map: HashMap<&str, HashMap<&str, u8>> = [
            ("b", HashMap::from([("z", 1), ("a", 2)])),
            ("a", HashMap::new()),
        ]
        .into();
        assert_eq!(
            String::from_utf8(canonical_json(&map).unwrap()).unwrap(),
            r#"{"a":{},"b":{"a":2,"z":1}}"#
        );
    }
}
