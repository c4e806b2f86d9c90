//! Just enough of `multipart/form-data` to find the `csrf_token` field in the part of
//! a body read so far; the handler parses the body for real.

pub enum Scan {
    Found(String),
    /// The body is malformed, or ended, without the field.
    Absent,
    /// Read more: the parts so far are complete and none is the field.
    More,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether a part's headers name it the token field (and not a file).
fn is_token_field(head: &[u8]) -> bool {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.split("\r\n")
        .filter_map(|line| line.strip_prefix("content-disposition:"))
        .any(|value| {
            let params: Vec<&str> = value.split(';').map(str::trim).collect();
            params.first() == Some(&"form-data")
                && params
                    .iter()
                    .any(|p| *p == "name=\"csrf_token\"" || *p == "name=csrf_token")
                && !params.iter().any(|p| p.starts_with("filename"))
        })
}

pub fn scan(body: &[u8], boundary: &str) -> Scan {
    if boundary.is_empty() {
        return Scan::Absent;
    }
    let opening = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    if body.len() < opening.len() {
        return Scan::More;
    }
    let Some(mut rest) = body.strip_prefix(opening.as_bytes()) else {
        return Scan::Absent;
    };
    loop {
        if rest.len() < 2 {
            return Scan::More;
        }
        let Some(part) = rest.strip_prefix(b"\r\n") else {
            // `--` closes the body; anything else is not multipart.
            return Scan::Absent;
        };
        let Some(head_end) = find(part, b"\r\n\r\n") else {
            return Scan::More;
        };
        let (head, content) = part.split_at(head_end);
        let content = content.get(4..).unwrap_or_default();
        let Some(end) = find(content, delimiter.as_bytes()) else {
            return Scan::More;
        };
        if is_token_field(head) {
            let value = content.get(..end).unwrap_or_default();
            return match std::str::from_utf8(value) {
                Ok(token) => Scan::Found(token.to_owned()),
                Err(_) => Scan::Absent,
            };
        }
        rest = content.get(end + delimiter.len()..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "--XyZ\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x01\x02--X\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nsecret-token\r\n--XyZ--\r\n";

    fn found(body: &str) -> Option<String> {
        match scan(body.as_bytes(), "XyZ") {
            Scan::Found(t) => Some(t),
            _ => None,
        }
    }

    #[test]
    fn finds_the_token_in_any_complete_part() {
        assert_eq!(found(BODY).as_deref(), Some("secret-token"));
        let first = "--XyZ\r\ncontent-disposition: form-data; name=csrf_token\r\n\r\nt0k\r\n--XyZ\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"a.png\"\r\n\r\n";
        assert_eq!(
            found(first).as_deref(),
            Some("t0k"),
            "before the rest is read"
        );
    }

    #[test]
    fn asks_for_more_until_the_field_is_complete() {
        for cut in 0..BODY.len() - 20 {
            let part = BODY.get(..cut).unwrap_or_default();
            assert!(
                matches!(scan(part.as_bytes(), "XyZ"), Scan::More),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn no_token_field_no_token() {
        let no_token =
            "--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--XyZ--\r\n";
        assert!(matches!(scan(no_token.as_bytes(), "XyZ"), Scan::Absent));
        let as_file = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"; filename=\"t\"\r\n\r\nv\r\n--XyZ--\r\n";
        assert!(matches!(scan(as_file.as_bytes(), "XyZ"), Scan::Absent));
        assert!(matches!(scan(b"csrf_token=abc", "XyZ"), Scan::Absent));
        assert!(matches!(scan(BODY.as_bytes(), ""), Scan::Absent));
    }
}
