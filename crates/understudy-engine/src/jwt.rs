//! A bearer token read as a JSON Web Token: decoded, never verified. The mock has no keys to check
//! a signature with; it reads the claims a frontend's session depends on (`exp`, `nbf` and the
//! scopes) so that an expired token or a token without a scope is refused as the real API would.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

/// The claims of a token that is a JWT: three base64url parts, the first two JSON objects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Claims {
    /// `exp`: the moment the token stops being valid.
    pub expires: Option<Moment>,
    /// `nbf`: the moment before which it is not valid yet.
    pub not_before: Option<Moment>,
    /// The scopes the token grants: `scope` (space-separated) and `scp` (an array of names, or a
    /// space-separated string), together. `None` when the token has neither claim.
    pub scopes: Option<Vec<String>>,
}

/// A time claim as the token gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Moment {
    /// A NumericDate: seconds since the Unix epoch (fractions allowed).
    Seconds(f64),
    /// Something other than a number, which RFC 7519 does not allow.
    Malformed,
}

/// base64url, with or without its `=` padding (JWTs leave it out; some hand-made tokens keep it).
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The claims of `token` if it is a JWT (a JWS in compact form: header, payload and signature,
/// each base64url, the header and payload JSON objects; the signature may be empty), else
/// `None`: such a token is an opaque credential.
pub(crate) fn claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || header.is_empty() || payload.is_empty() {
        return None;
    }
    // The signature is not checked, but it must look like one.
    if !signature
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'='))
    {
        return None;
    }
    json_object(header)?;
    let payload = json_object(payload)?;
    Some(Claims {
        expires: payload.get("exp").map(moment),
        not_before: payload.get("nbf").map(moment),
        scopes: scopes(&payload),
    })
}

impl Claims {
    /// Whether the token grants `scope`.
    pub(crate) fn grants(&self, scope: &str) -> bool {
        self.scopes
            .as_ref()
            .is_some_and(|scopes| scopes.iter().any(|granted| granted == scope))
    }
}

fn json_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = BASE64URL.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(object) => Some(object),
        _ => None,
    }
}

fn moment(value: &Value) -> Moment {
    value
        .as_f64()
        .filter(|seconds| seconds.is_finite())
        .map_or(Moment::Malformed, Moment::Seconds)
}

fn scopes(payload: &Map<String, Value>) -> Option<Vec<String>> {
    let mut found = None::<Vec<String>>;
    for claim in ["scope", "scp"] {
        let names: Vec<String> = match payload.get(claim) {
            Some(Value::String(text)) => text.split_whitespace().map(str::to_owned).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => continue,
        };
        found.get_or_insert_with(Vec::new).extend(names);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    fn token(header: &Value, payload: &Value) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        )
    }

    #[test]
    fn a_jwt_is_decoded_and_its_claims_read() {
        let header = json!({"alg": "HS256", "typ": "JWT"});
        let read = claims(&token(
            &header,
            &json!({"exp": 1_735_732_800, "nbf": 1.5, "scope": "read  write", "scp": ["admin"]}),
        ))
        .unwrap();
        assert_eq!(read.expires, Some(Moment::Seconds(1_735_732_800.0)));
        assert_eq!(read.not_before, Some(Moment::Seconds(1.5)));
        assert_eq!(
            read.scopes,
            Some(vec!["read".into(), "write".into(), "admin".into()])
        );
        assert!(read.grants("write") && !read.grants("delete"));
        let bare = claims(&token(&header, &json!({"exp": "tomorrow", "scp": "a b"}))).unwrap();
        assert_eq!(bare.expires, Some(Moment::Malformed));
        assert_eq!(bare.not_before, None);
        assert_eq!(bare.scopes, Some(vec!["a".into(), "b".into()]));
        let unsigned = token(&header, &json!({}));
        let unsigned = unsigned.trim_end_matches("c2lnbmF0dXJl");
        assert_eq!(claims(unsigned).unwrap().scopes, None);
        // Padding is tolerated.
        let padded = format!(
            "{}.{}.",
            base64::engine::general_purpose::URL_SAFE.encode(r#"{"alg":"none"}"#),
            base64::engine::general_purpose::URL_SAFE.encode(r#"{"sub":"1"}"#)
        );
        assert!(padded.contains('='));
        assert!(claims(&padded).is_some());
    }

    #[test]
    fn other_tokens_are_not_jwts() {
        let header = json!({"alg": "HS256"});
        for opaque in [
            "sk_test_123".to_owned(),
            "abc.def.ghi".to_owned(),
            "a.b".to_owned(),
            "..".to_owned(),
            token(&header, &json!({})) + ".extra",
            token(&header, &json!([1, 2])),
            token(&json!("alg"), &json!({})),
            format!("{}.not base64!.x", URL_SAFE_NO_PAD.encode("{}")),
            format!(
                "{}.{}.sig nature",
                URL_SAFE_NO_PAD.encode("{}"),
                URL_SAFE_NO_PAD.encode("{}")
            ),
        ] {
            assert_eq!(claims(&opaque), None, "{opaque}");
        }
    }
}
