//! A tiny HTTP/1.0 and 1.1 server connection: reads one request, answers
//! it with a complete response (`Content-Length`, `Connection: close`),
//! then closes, so any client reads the whole body and knows where it
//! ends. Closing after each answer is correct for both versions and needs
//! no pipelining state.

use core::fmt::{self, Write};

use heapless::{String, Vec};
use smoltcp::socket::tcp;

/// Longest request head (request line and headers) accepted; longer is a
/// 400.
pub const REQUEST_MAX: usize = 1024;
/// Largest response body.
pub const BODY_MAX: usize = 6144;
const RESPONSE_MAX: usize = BODY_MAX + 256;

/// The body being rendered.
pub type Body = String<BODY_MAX>;

/// What a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /`: the HTML page.
    Index,
    /// `GET /status`: JSON.
    Status,
    /// A path this server does not have: 404.
    NotFound,
    /// A method other than GET or HEAD: 405.
    MethodNotAllowed,
    /// Not HTTP/1.x as this server reads it: 400.
    BadRequest,
}

/// A request head, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// What to answer.
    pub route: Route,
    /// `HEAD`: headers only.
    pub head_only: bool,
}

/// Parses a complete request head (everything before the blank line).
pub fn parse(head: &[u8]) -> Request {
    let bad = Request {
        route: Route::BadRequest,
        head_only: false,
    };
    let Ok(head) = core::str::from_utf8(head) else {
        return bad;
    };
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let Some(line) = lines.next() else {
        return bad;
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return bad;
    };
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") || !target.starts_with('/') || method.is_empty()
    {
        return bad;
    }
    let mut host = false;
    for header in lines.filter(|l| !l.is_empty()) {
        let Some((name, _)) = header.split_once(':') else {
            return bad;
        };
        if name.is_empty() || name.contains([' ', '\t']) {
            return bad;
        }
        host |= name.eq_ignore_ascii_case("host");
    }
    // RFC 9112 section 3.2: a 1.1 request without Host is a 400.
    if version == "HTTP/1.1" && !host {
        return bad;
    }
    let head_only = method == "HEAD";
    if !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return bad;
    }
    if method != "GET" && !head_only {
        return Request {
            route: Route::MethodNotAllowed,
            head_only: false,
        };
    }
    let path = target.split(['?', '#']).next().unwrap_or(target);
    let route = match path {
        "/" | "/index.html" => Route::Index,
        "/status" => Route::Status,
        _ => Route::NotFound,
    };
    Request { route, head_only }
}

/// Where a request head ends: the length up to and including the blank
/// line, if it has arrived.
fn head_end(bytes: &[u8]) -> Option<usize> {
    (0..bytes.len()).find_map(|i| {
        let rest = &bytes[i..];
        if rest.starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else if rest.starts_with(b"\n\n") {
            Some(i + 2)
        } else {
            None
        }
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Reading,
    Writing,
    Closing,
}

/// One server connection's state.
pub struct HttpConn {
    request: Vec<u8, REQUEST_MAX>,
    response: Vec<u8, RESPONSE_MAX>,
    sent: usize,
    phase: Phase,
}

impl Default for HttpConn {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpConn {
    /// A connection waiting for a request.
    pub const fn new() -> Self {
        Self {
            request: Vec::new(),
            response: Vec::new(),
            sent: 0,
            phase: Phase::Reading,
        }
    }

    /// Serves `socket` on `port`: listens again once it is closed, reads a
    /// request, answers it with what `page` renders, closes. Returns
    /// whether a request was answered.
    pub fn poll(
        &mut self,
        socket: &mut tcp::Socket<'_>,
        port: u16,
        page: impl FnOnce(Route, &mut Body) -> fmt::Result,
    ) -> bool {
        if !socket.is_open() {
            *self = Self::new();
            // Cannot fail: the socket is closed and the port non-zero.
            let _ = socket.listen(port);
            return false;
        }
        let mut answered = false;
        if self.phase == Phase::Reading && socket.can_recv() {
            let room = REQUEST_MAX - self.request.len();
            let mut chunk = [0u8; 256];
            let n = socket.recv_slice(&mut chunk[..room.min(256)]).unwrap_or(0);
            // Fits: at most `room` bytes were read.
            let _ = self.request.extend_from_slice(&chunk[..n]);
            let request = match head_end(&self.request) {
                Some(end) => Some(parse(&self.request[..end])),
                None if self.request.is_full() => Some(parse(b"")),
                None => None,
            };
            if let Some(request) = request {
                self.respond(request, page);
                answered = true;
            }
        }
        if self.phase == Phase::Reading && !socket.may_recv() && socket.may_send() {
            // The peer closed (CLOSE-WAIT) before sending a whole request.
            socket.close();
            self.phase = Phase::Closing;
        }
        if self.phase == Phase::Writing {
            if let Ok(n) = socket.send_slice(&self.response[self.sent..]) {
                self.sent += n;
            }
            if self.sent == self.response.len() {
                socket.close();
                self.phase = Phase::Closing;
            }
        }
        answered
    }

    fn respond(&mut self, request: Request, page: impl FnOnce(Route, &mut Body) -> fmt::Result) {
        let mut body = Body::new();
        let (mut code, mut reason, mut kind) = match request.route {
            Route::Index => (200, "OK", "text/html; charset=utf-8"),
            Route::Status => (200, "OK", "application/json"),
            Route::NotFound => (404, "Not Found", "text/plain; charset=utf-8"),
            Route::MethodNotAllowed => (405, "Method Not Allowed", "text/plain; charset=utf-8"),
            Route::BadRequest => (400, "Bad Request", "text/plain; charset=utf-8"),
        };
        let rendered = match request.route {
            Route::Index | Route::Status => page(request.route, &mut body),
            _ => writeln!(body, "{code} {reason}"),
        };
        if rendered.is_err() {
            body.clear();
            (code, reason, kind) = (500, "Internal Server Error", "text/plain; charset=utf-8");
            // Fits: a short fixed line.
            let _ = body.push_str("500 status too large for the response buffer\n");
        }
        self.response.clear();
        let mut head = String::<256>::new();
        // Fits: the fixed text is under 200 bytes.
        let _ = write!(
            head,
            "HTTP/1.1 {code} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
            body.len()
        );
        // Both fit: RESPONSE_MAX is BODY_MAX plus the head's capacity.
        let _ = self.response.extend_from_slice(head.as_bytes());
        if !request.head_only {
            let _ = self.response.extend_from_slice(body.as_bytes());
        }
        self.sent = 0;
        self.phase = Phase::Writing;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(s: &str) -> Route {
        parse(s.as_bytes()).route
    }

    #[test]
    fn requests() {
        assert_eq!(route("GET / HTTP/1.0\r\n\r\n"), Route::Index);
        assert_eq!(
            route("GET /status HTTP/1.1\r\nHost: x\r\n\r\n"),
            Route::Status
        );
        assert_eq!(route("GET /status?x=1 HTTP/1.0\n\n"), Route::Status);
        assert_eq!(route("GET /nope HTTP/1.0\r\n\r\n"), Route::NotFound);
        assert_eq!(route("POST / HTTP/1.0\r\n\r\n"), Route::MethodNotAllowed);
        assert!(parse(b"HEAD / HTTP/1.0\r\n\r\n").head_only);
        for bad in [
            "",
            "GET /\r\n\r\n",
            "GET / HTTP/2.0\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET  / HTTP/1.0\r\n\r\n",
            "GET x HTTP/1.0\r\n\r\n",
            "get / HTTP/1.0\r\n\r\n",
            "GET / HTTP/1.0\r\nno colon\r\n\r\n",
            "\u{0}\u{1}\u{2}",
        ] {
            assert_eq!(route(bad), Route::BadRequest, "{bad:?}");
        }
        assert_eq!(parse(&[0xff, 0xfe]).route, Route::BadRequest);
    }

    #[test]
    fn head_ends() {
        assert_eq!(head_end(b"GET / HTTP/1.0\r\n\r\nrest"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.0\n\n"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.0\r\n"), None);
    }
}
