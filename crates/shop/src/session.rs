//! The browser session: a random id (made by the database's gen_random_uuid) in a cookie, the key
//! of the session's likes.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

const COOKIE_NAME: &str = "fashrec_session";

/// The session id of a request, if its cookie holds one that looks like a UUID (anything else is
/// ignored, so a forged cookie never reaches the database as anything but a well-formed id).
pub fn from_headers(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())
        .filter(|value| is_uuid(value))
}

/// The Set-Cookie header that keeps a session for a year, out of reach of scripts and of other
/// sites' forms.
pub fn cookie(id: &str) -> Option<HeaderValue> {
    if !is_uuid(id) {
        return None;
    }
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={id}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"
    ))
    .ok()
}

fn is_uuid(value: &str) -> bool {
    value.len() == 36
        && value.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_and_checked() {
        let id = "0b6f2a4e-5c1d-4e8f-9a7b-3c2d1e0f9a8b";
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("a=1; {COOKIE_NAME}={id}; b=2")).unwrap(),
        );
        assert_eq!(from_headers(&headers).as_deref(), Some(id));
        headers.insert(
            COOKIE,
            HeaderValue::from_static("fashrec_session=x'; DROP TABLE shop_likes"),
        );
        assert_eq!(from_headers(&headers), None);
        assert!(cookie("not-a-uuid").is_none());
        assert!(cookie(id).unwrap().to_str().unwrap().contains("HttpOnly"));
    }
}
