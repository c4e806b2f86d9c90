//! A small HTTP/1.1 client over one keep-alive connection. It does little more than
//! write a request and read the answer, so that the load process spends its CPU on
//! asking and the server's figures are the server's.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The server said it closes the connection after this answer.
    pub closes: bool,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `name=value` of the cookie the answer sets, if it sets one by that name.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next())
            .find(|pair| pair.split('=').next() == Some(name))
            .map(str::to_owned)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

impl Conn {
    pub async fn open(addr: &str) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::with_capacity(64 * 1024, stream),
            host: addr.to_owned(),
        })
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            request.push_str(k);
            request.push_str(": ");
            request.push_str(v);
            request.push_str("\r\n");
        }
        if !body.is_empty() || method != "GET" {
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.get_mut().write_all(&bytes).await?;
        self.read_response(method == "HEAD").await
    }

    async fn read_line(&mut self, line: &mut String) -> io::Result<()> {
        line.clear();
        if self.stream.read_line(line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        while line.ends_with('\n') || line.ends_with('\r') {
            line.pop();
        }
        Ok(())
    }

    async fn read_response(&mut self, head_only: bool) -> io::Result<Response> {
        let mut line = String::new();
        self.read_line(&mut line).await?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status line"))?;
        let mut headers = Vec::new();
        loop {
            self.read_line(&mut line).await?;
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
            closes: false,
        };
        response.closes = response
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let chunked = response
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let length = response
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok());
        if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
            return Ok(response);
        }
        if chunked {
            loop {
                self.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| bad("bad chunk size"))?;
                if size == 0 {
                    // Trailers, then the empty line.
                    loop {
                        self.read_line(&mut line).await?;
                        if line.is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let start = response.body.len();
                response.body.resize(start + size, 0);
                self.stream.read_exact(&mut response.body[start..]).await?;
                self.read_line(&mut line).await?;
            }
        } else if let Some(n) = length {
            response.body.resize(n, 0);
            self.stream.read_exact(&mut response.body).await?;
        } else {
            self.stream.read_to_end(&mut response.body).await?;
            response.closes = true;
        }
        Ok(response)
    }
}

/// Runs `fut` to completion on a runtime of its own (for the suite's blocking code).
pub fn block_on<T>(fut: impl std::future::Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(fut)
}

/// One request on a fresh connection.
pub async fn once(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Response> {
    Conn::open(addr)
        .await?
        .send(method, path, headers, body)
        .await
}

/// Signs in through the login form the way a browser does (GET the form for its
/// session cookie and CSRF token, POST it with an Origin header); returns the
/// session cookie as `name=value`.
pub async fn sign_in(
    addr: &str,
    origin: &str,
    cookie_name: &str,
    email: &str,
    password: &str,
) -> io::Result<String> {
    let mut conn = Conn::open(addr).await?;
    let form = conn.send("GET", "/login", &[], b"").await?;
    let cookie = form
        .cookie(cookie_name)
        .ok_or_else(|| bad("the login form set no session cookie"))?;
    let page = form.text();
    let marker = "name=\"csrf_token\" value=\"";
    let start = page
        .find(marker)
        .map(|i| i + marker.len())
        .ok_or_else(|| bad("no csrf token on the login form"))?;
    let token = &page[start..]
        .split('"')
        .next()
        .ok_or_else(|| bad("unterminated csrf token"))?;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair("password", password)
        .append_pair("csrf_token", token)
        .finish();
    let answer = conn
        .send(
            "POST",
            "/login",
            &[
                ("Cookie", &cookie),
                ("Origin", origin),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )
        .await?;
    if answer.status != 303 || answer.header("location") != Some("/tasks") {
        return Err(bad(&format!(
            "signing in as {email} answered {} (location {:?})",
            answer.status,
            answer.header("location")
        )));
    }
    answer
        .cookie(cookie_name)
        .ok_or_else(|| bad("signing in set no session cookie"))
}
