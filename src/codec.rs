//! Typed values to bytes and back: the one place that knows the value encoding.
//!
//! Layout: one version byte, then the value in bincode 2's standard configuration (varint
//! integers). The version byte lets a later release change the encoding while still reading
//! old envelopes; nothing outside this module depends on bincode.

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::value::{MAX_FIELD_BYTES, Value};

/// Current value-encoding version.
const CODEC_V1: u8 = 1;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_FIELD_BYTES>()
}

/// Encode a value. The bytes are plaintext, so they come back in a wiping buffer.
pub(crate) fn encode(value: &Value) -> Result<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::with_capacity(64));
    out.push(CODEC_V1);
    bincode::serde::encode_into_std_write(value, &mut *out, config()).map_err(|_| {
        Error::InvalidInput {
            what: "field value",
            reason: format!("larger than {MAX_FIELD_BYTES} bytes"),
        }
    })?;
    if out.len() > MAX_FIELD_BYTES {
        return Err(Error::InvalidInput {
            what: "field value",
            reason: format!("larger than {MAX_FIELD_BYTES} bytes"),
        });
    }
    Ok(out)
}

/// Decode a value. Only ever called on bytes that passed AEAD authentication, so a failure here
/// means a bug or a foreign writer holding the key, reported as corruption.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value> {
    let corrupt = |what: &str| Error::Corrupt {
        what: format!("encoded value ({what})"),
    };
    match bytes.split_first() {
        Some((&CODEC_V1, body)) => {
            let (value, used) = bincode::serde::decode_from_slice::<Value, _>(body, config())
                .map_err(|_| corrupt("malformed"))?;
            if used != body.len() {
                return Err(corrupt("trailing bytes"));
            }
            Ok(value)
        }
        Some((v, _)) => Err(corrupt(&format!("unknown codec version {v}"))),
        None => Err(corrupt("empty")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Date;
    use proptest::prelude::*;

    fn value_strategy() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<String>().prop_map(Value::Text),
            any::<String>().prop_map(Value::Code),
            proptest::collection::vec(any::<String>(), 0..5).prop_map(Value::Codes),
            any::<i64>().prop_map(Value::Number),
            (1900i16..2100, 1u8..=12, 1u8..=28)
                .prop_map(|(y, m, d)| Value::Date(Date::new(y, m, d).unwrap())),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(v in value_strategy()) {
            let bytes = encode(&v).unwrap();
            prop_assert_eq!(decode(&bytes).unwrap(), v);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&bytes);
        }
    }

    #[test]
    fn encoding_is_fixed() {
        // Golden bytes: the on-disk value format must not drift silently.
        assert_eq!(
            &encode(&Value::text("hi")).unwrap()[..],
            &[1, 0, 2, b'h', b'i']
        );
        assert_eq!(
            &encode(&Value::Number(300)).unwrap()[..],
            &[1, 4, 251, 0x58, 0x02]
        );
        let d = Value::Date(Date::new(1984, 7, 1).unwrap());
        assert_eq!(&encode(&d).unwrap()[..], &[1, 1, 251, 0x80, 0x0f, 7, 1]);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[9, 0]).is_err());
        let mut b = encode(&Value::text("hi")).unwrap().to_vec();
        b.push(0);
        assert!(decode(&b).is_err());
        let huge = Value::Text("x".repeat(MAX_FIELD_BYTES + 1));
        assert!(matches!(encode(&huge), Err(Error::InvalidInput { .. })));
    }
}
