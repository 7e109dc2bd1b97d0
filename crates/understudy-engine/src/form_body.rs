//! A form request body read as the name–value pairs validation turns into an object: URL-encoded
//! pairs (`application/x-www-form-urlencoded`), or the fields of a `multipart/form-data` body, a
//! file field standing as its file name. A multipart body that does not follow its boundary is an
//! error saying where it broke. Bodies are bounded by the server before they get here.

use std::borrow::Cow;

use crate::validate::QueryPairs;

/// The pairs of a URL-encoded form body, percent-decoded, in order.
pub(crate) fn url_encoded(body: &[u8]) -> QueryPairs<'_> {
    form_urlencoded::parse(body).collect()
}

/// The fields of a multipart form body sent with `content_type` (which names the boundary), in
/// order: each field's name and its text, or its file name for a file.
pub(crate) fn multipart<'b>(content_type: &str, body: &'b [u8]) -> Result<QueryPairs<'b>, String> {
    let boundary = parameter(content_type, "boundary")
        .filter(|boundary| !boundary.is_empty())
        .ok_or("the multipart Content-Type names no `boundary`")?;
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut at = find(body, delimiter, 0).ok_or("the body holds no boundary line")?;
    let mut fields = Vec::new();
    loop {
        at += delimiter.len();
        if body[at..].starts_with(b"--") {
            return Ok(fields);
        }
        let headers_start = skip_line_end(body, at).ok_or_else(|| broken(at))?;
        let headers_end = find(body, b"\r\n\r\n", headers_start).ok_or_else(|| broken(at))?;
        let headers = String::from_utf8_lossy(&body[headers_start..headers_end]);
        let content_start = headers_end + 4;
        let next = find(body, &[b"\r\n", delimiter].concat(), content_start)
            .ok_or_else(|| broken(content_start))?;
        let disposition = headers
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then(|| value.trim().to_owned())
            })
            .ok_or_else(|| format!("a part at byte {headers_start} has no Content-Disposition"))?;
        let name = parameter(&disposition, "name")
            .ok_or_else(|| format!("a part at byte {headers_start} has no field name"))?;
        let value = match parameter(&disposition, "filename") {
            Some(file) => Cow::Owned(file),
            None => String::from_utf8_lossy(&body[content_start..next]),
        };
        fields.push((Cow::Owned(name), value));
        at = next + 2;
    }
}

/// Why a multipart body broke at byte `at`.
fn broken(at: usize) -> String {
    format!("the multipart body breaks off at byte {at}: a part must end with the boundary line")
}

/// The value of `name=` among the `;`-separated parameters of a header value, unquoted.
fn parameter(header: &str, name: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case(name).then(|| {
            let value = value.trim();
            value
                .strip_prefix('"')
                .and_then(|value| value.strip_suffix('"'))
                .unwrap_or(value)
                .replace("\\\"", "\"")
        })
    })
}

/// Where the line end after a boundary line ends (optional whitespace, then CRLF).
fn skip_line_end(body: &[u8], mut at: usize) -> Option<usize> {
    while body
        .get(at)
        .is_some_and(|byte| *byte == b' ' || *byte == b'\t')
    {
        at += 1;
    }
    body[at..].starts_with(b"\r\n").then_some(at + 2)
}

/// The first position of `needle` in `haystack` from `from` on.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(haystack.get(from..)?, needle).map(|position| position + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=\"XyZ\"";

    #[test]
    fn fields_and_files_are_read_in_order() {
        let body =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\nthere\r\n\
            --XyZ\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\
            Content-Type: image/png\r\n\r\n\x89PNG\x00\r\n--XyZ--\r\n";
        let fields = multipart(TYPE, body).unwrap();
        assert_eq!(
            fields,
            vec![
                (Cow::from("note"), Cow::from("hello\r\nthere")),
                (Cow::from("file"), Cow::from("a.png")),
            ]
        );
        assert_eq!(multipart(TYPE, b"preamble\r\n--XyZ--").unwrap(), vec![]);
    }

    #[test]
    fn a_broken_body_says_where() {
        assert!(
            multipart("multipart/form-data", b"")
                .unwrap_err()
                .contains("boundary")
        );
        let cut = b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end";
        assert!(multipart(TYPE, cut).unwrap_err().contains("byte 51"));
        let nameless = b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--";
        assert!(
            multipart(TYPE, nameless)
                .unwrap_err()
                .contains("no field name")
        );
        assert!(
            multipart(TYPE, b"nothing")
                .unwrap_err()
                .contains("no boundary line")
        );
    }

    #[test]
    fn url_encoded_pairs_are_decoded() {
        let pairs = url_encoded(b"user=ada+l&tag=a%26b&tag=c");
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[0], (Cow::from("user"), Cow::from("ada l")));
        assert_eq!(pairs[1].1, "a&b");
    }
}
