//! Slow and silent clients on a real loopback socket: every connection is closed when its client
//! is too slow to send (headers, body, the next request), at most `max_connections` are served at
//! once, and a stopped server closes what is left after its shutdown timeout.
//!
//! Timeouts are a second or a few; timings are asserted as lower bounds, with a generous cap
//! (20 s) only so that a broken server fails the test instead of hanging it.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::test_path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use understudy_engine::EngineOptions;
use understudy_server::{ConnectionLimits, MockServer, ServerOptions};

/// Long enough for any of these tests' events, short enough not to hang a broken run for long.
const CAP: Duration = Duration::from_secs(20);

async fn server(limits: ConnectionLimits) -> MockServer {
    let options = ServerOptions {
        connections: limits,
        ..ServerOptions::default()
    };
    MockServer::start_with([test_path("specs")], EngineOptions::default(), options)
        .await
        .unwrap()
}

fn limits() -> ConnectionLimits {
    ConnectionLimits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        max_connections: 100,
        shutdown_timeout: Duration::from_secs(1),
    }
}

/// Reads until the server closes the connection (an end of file or a reset) and returns what
/// came before; fails if it stays open for [`CAP`].
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match timeout(CAP, stream.read(&mut buffer)).await {
            Err(_) => panic!(
                "still open after {CAP:?}; received {:?}",
                String::from_utf8_lossy(&received)
            ),
            Ok(Ok(0)) => return received,
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionReset => {
                return received;
            }
            Ok(Err(error)) => panic!("{error}"),
        }
    }
}

/// Reads one response (head and `Content-Length` body) off a kept-alive connection: its status.
async fn read_response(stream: &mut TcpStream) -> u16 {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = timeout(CAP, stream.read_u8()).await.unwrap().unwrap();
        head.push(byte);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    timeout(CAP, stream.read_exact(&mut body))
        .await
        .unwrap()
        .unwrap();
    head.split(' ').nth(1).unwrap().parse().unwrap()
}

/// A request the engine answers at once (404: no spec has the path), on a kept-alive connection.
const GET: &[u8] = b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n";

async fn connect(address: SocketAddr) -> TcpStream {
    TcpStream::connect(address).await.unwrap()
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let server = server(limits()).await;
    let started = Instant::now();
    let mut stream = connect(server.address()).await;
    let received = read_until_closed(&mut stream).await;
    assert!(received.is_empty(), "{received:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
}

/// Headers that keep coming, a line every 200 ms, never finish: the header timeout counts from
/// the first byte, not from the last.
#[tokio::test]
async fn dripping_headers_are_cut_off_after_the_header_timeout() {
    let server = server(limits()).await;
    // Taken before the server can start its clock, so that timings are lower bounds.
    let started = Instant::now();
    let mut stream = connect(server.address()).await;
    stream
        .write_all(b"GET /nowhere HTTP/1.1\r\n")
        .await
        .unwrap();
    let mut drip = tokio::time::interval(Duration::from_millis(200));
    let closed_after = loop {
        drip.tick().await;
        assert!(started.elapsed() < CAP, "headers dripped for {CAP:?}");
        let wrote = stream.write_all(b"X-Drip: 1\r\n").await;
        // A closed connection shows as a failed write, or as an end of file to a read.
        let mut probe = [0u8; 1];
        let read = timeout(Duration::ZERO, stream.read(&mut probe)).await;
        if wrote.is_err() || matches!(read, Ok(Ok(0) | Err(_))) {
            break started.elapsed();
        }
        assert!(read.is_err(), "answered before the headers were complete");
    };
    assert!(closed_after >= Duration::from_secs(1), "{closed_after:?}");
}

/// A body that stops half-way is answered 408, and the connection is closed.
#[tokio::test]
async fn a_half_sent_body_is_answered_408_and_closed_after_the_body_timeout() {
    let server = server(ConnectionLimits {
        header_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(5),
        ..limits()
    })
    .await;
    let mut stream = connect(server.address()).await;
    let started = Instant::now();
    stream
        .write_all(
            b"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"text\": ",
        )
        .await
        .unwrap();
    let received = String::from_utf8(read_until_closed(&mut stream).await).unwrap();
    assert!(received.starts_with("HTTP/1.1 408"), "{received}");
    assert!(received.contains("connection: close"), "{received}");
    assert!(received.contains("--body-timeout"), "{received}");
    assert!(started.elapsed() >= Duration::from_secs(1));
}

/// An idle kept-alive connection is closed after the idle timeout, which is its own: longer
/// here than the header timeout, and the idle time does not count as header time.
#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_one() {
    let server = server(ConnectionLimits {
        idle_timeout: Duration::from_secs(3),
        ..limits()
    })
    .await;
    let mut stream = connect(server.address()).await;
    // Before the request: the server's idle time starts after it, once the answer is written.
    let idle_from = Instant::now();
    stream.write_all(GET).await.unwrap();
    assert_eq!(read_response(&mut stream).await, 404);
    let received = read_until_closed(&mut stream).await;
    assert!(received.is_empty(), "{received:?}");
    let idle = idle_from.elapsed();
    assert!(idle >= Duration::from_secs(3), "closed after {idle:?}");
}

/// A request that starts on a kept-alive connection after an idle spell longer than the header
/// timeout is served if it comes whole, and cut off after the header timeout (from its first
/// byte) if not, though the idle timeout in force until then is far off: the watchdog, asleep
/// until the idle deadline, is woken for the sooner one.
#[tokio::test]
async fn a_second_request_left_unfinished_is_cut_off_after_the_header_timeout() {
    let server = server(ConnectionLimits {
        idle_timeout: Duration::from_secs(60),
        ..limits()
    })
    .await;
    let mut stream = connect(server.address()).await;
    stream.write_all(GET).await.unwrap();
    assert_eq!(read_response(&mut stream).await, 404);
    for _ in 0..2 {
        // The idle spell of the scenario, not a wait for the server.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        stream.write_all(GET).await.unwrap();
        assert_eq!(read_response(&mut stream).await, 404);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = Instant::now();
    stream
        .write_all(b"GET /nowhere HTTP/1.1\r\n")
        .await
        .unwrap();
    // Still open at the cap (20 s, the idle deadline 60 s) if the watchdog slept on.
    let received = read_until_closed(&mut stream).await;
    assert!(received.is_empty(), "{received:?}");
    let cut_off = started.elapsed();
    assert!(cut_off >= Duration::from_secs(1), "{cut_off:?}");
}

/// Requests one after the other on one connection are each timed from their own start: a
/// connection kept busy for longer than the header timeout stays open.
#[tokio::test]
async fn a_connection_in_use_stays_open_past_the_timeouts() {
    // The idle timeout is longer than this test's pause between a response and the next request
    // can be on a loaded machine.
    let server = server(ConnectionLimits {
        idle_timeout: Duration::from_secs(5),
        ..limits()
    })
    .await;
    let mut stream = connect(server.address()).await;
    let started = Instant::now();
    let mut requests = 0;
    while started.elapsed() < Duration::from_millis(2500) {
        stream.write_all(GET).await.unwrap();
        assert_eq!(read_response(&mut stream).await, 404);
        requests += 1;
    }
    assert!(requests > 1);
}

/// The header timeout stops with the headers: a body may take up to the body timeout, here
/// longer than the header one.
#[tokio::test]
async fn a_slow_body_within_the_body_timeout_is_answered() {
    let server = server(ConnectionLimits {
        body_timeout: Duration::from_secs(10),
        ..limits()
    })
    .await;
    let mut stream = connect(server.address()).await;
    let body = br#"{"text": "slow",   "priority": 2}"#;
    let head = format!(
        "POST /notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut drip = tokio::time::interval(Duration::from_millis(100));
    for piece in body.chunks(2) {
        drip.tick().await;
        stream.write_all(piece).await.unwrap();
    }
    assert!(
        started.elapsed() > Duration::from_secs(1),
        "not slower than the header timeout"
    );
    let status = read_response(&mut stream).await;
    assert_eq!(status, 201);
}

/// With two connections allowed, a third is accepted only once one of the two closes.
#[tokio::test]
async fn connections_past_the_bound_wait_until_one_closes() {
    let server = server(ConnectionLimits {
        max_connections: 2,
        header_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        ..limits()
    })
    .await;
    let mut first = connect(server.address()).await;
    let mut second = connect(server.address()).await;
    for stream in [&mut first, &mut second] {
        stream.write_all(GET).await.unwrap();
        assert_eq!(read_response(stream).await, 404);
    }
    // The third connects (the kernel's backlog takes it) and sends, but is not served.
    let mut third = connect(server.address()).await;
    third.write_all(GET).await.unwrap();
    let mut byte = [0u8; 1];
    let early = timeout(Duration::from_millis(500), third.read(&mut byte)).await;
    assert!(early.is_err(), "served past the bound: {early:?}");
    // The two still are.
    second.write_all(GET).await.unwrap();
    assert_eq!(read_response(&mut second).await, 404);

    drop(first);
    assert_eq!(read_response(&mut third).await, 404);
}

/// Sends a request whose body stops half-way, once the server reads it (its `100 Continue` says
/// so): a request under way that will never finish.
async fn half_sent_body(address: SocketAddr) -> TcpStream {
    let mut stream = connect(address).await;
    stream
        .write_all(
            b"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Expect: 100-continue\r\nContent-Length: 100\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(timeout(CAP, stream.read_u8()).await.unwrap().unwrap());
    }
    assert!(head.starts_with(b"HTTP/1.1 100"), "{head:?}");
    stream.write_all(b"{\"text\": ").await.unwrap();
    stream
}

/// A stopped server closes idle connections at once, and one with a request under way after the
/// shutdown timeout, though its body timeout is far off.
#[tokio::test]
async fn a_stopped_server_closes_what_is_left_after_the_shutdown_timeout() {
    let server = server(ConnectionLimits {
        header_timeout: Duration::from_secs(60),
        body_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        shutdown_timeout: Duration::from_secs(1),
        ..limits()
    })
    .await;
    let mut idle = connect(server.address()).await;
    idle.write_all(GET).await.unwrap();
    assert_eq!(read_response(&mut idle).await, 404);
    let mut under_way = half_sent_body(server.address()).await;

    let stopped = Instant::now();
    let address = server.address();
    drop(server);
    assert!(read_until_closed(&mut idle).await.is_empty());
    let received = read_until_closed(&mut under_way).await;
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    assert!(stopped.elapsed() >= Duration::from_secs(1));
    // No longer accepting.
    assert!(TcpStream::connect(address).await.is_err());
}
