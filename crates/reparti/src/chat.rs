//! `reparti chat`: the labs' first client and server (TP1 over TCP, TP2 over UDP).
//!
//! The dialogue itself lives in [`reparti_labs::chat`]; this module only turns flags into
//! addresses, the server's user into the one who answers (`--interactive`), and errors
//! into exit statuses: 2 for what the command line chose (a bad address, a port in use or
//! otherwise not bindable, as `reparti node` does), 1 for a failure of the world.

use clap::{Args, Subcommand};
use reparti_labs::chat::{self, Answer, ChatError, ClientConfig, Server, Transport};
use std::io::{IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ChatArgs {
    #[command(subcommand)]
    pub command: ChatCommand,
}

#[derive(Subcommand, Debug)]
pub enum ChatCommand {
    /// Listen for clients and answer each message with `ack: <message>` (or with the reply
    /// you type, with --interactive), until killed (Ctrl-C). Over TCP one client at a
    /// time: the next is accepted when the dialogue ends. The lab sheet's Python client,
    /// which sends without a newline, is understood too.
    Serve(ServeArgs),
    /// Send each line typed (or piped) on standard input to a server and print its answer;
    /// `fin` (any case) or an empty line ends the dialogue. The lab sheet's Python server,
    /// which answers without a newline, is understood too.
    Connect(ConnectArgs),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The port to listen on (0 picks a free one, printed at start).
    #[arg(long)]
    pub port: u16,

    /// Use UDP datagrams (TP2) instead of a TCP connection (TP1).
    #[arg(long)]
    pub udp: bool,

    /// Listen on IPv6 `[::]` only (TP1, exercise 4): an IPv4 client such as
    /// `reparti chat connect 127.0.0.1:PORT` is refused, `[::1]:PORT` is served.
    #[arg(long, conflicts_with = "bind")]
    pub ipv6: bool,

    /// The local address to listen on, e.g. 127.0.0.1 or ::1 (an IPv6 address listens on
    /// IPv6 only) [default: 0.0.0.0, every IPv4 interface].
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<IpAddr>,

    /// TP1, exercise 3's dialogue: you type each reply on standard input (after the prompt
    /// `your reply to ADDR:`) instead of the automatic `ack: <message>`; the client's `fin`
    /// is still acknowledged for you. The server stops when standard input ends. TCP only:
    /// a UDP client gives up on an answer after its --timeout.
    #[arg(short, long, conflicts_with = "udp")]
    pub interactive: bool,
}

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// The server: HOST:PORT, e.g. 127.0.0.1:5000, [::1]:5000 or localhost:5000.
    pub server: String,

    /// Use UDP datagrams (TP2) instead of a TCP connection (TP1).
    #[arg(long)]
    pub udp: bool,

    /// Send from this local port (the lab uses 62000) instead of any free one.
    #[arg(long, value_name = "PORT")]
    pub bind_port: Option<u16>,

    /// Seconds to wait for the connection (TCP), for each answer (UDP), and, after `fin`,
    /// for the server's answer and close (TCP) before closing the connection ourselves.
    #[arg(long, default_value_t = 5, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

pub fn run(args: &ChatArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        ChatCommand::Serve(a) => serve(a),
        ChatCommand::Connect(a) => connect(a),
    }
    .map_err(|e| if chose_wrong(&e) { crate::error::usage(e.to_string()) } else { anyhow::Error::new(e) })?;
    Ok(ExitCode::SUCCESS)
}

/// Whether the fix is a different command line (exit 2): a bad address, or a port or
/// address that cannot be bound — another --port, --bind-port or --bind, as for
/// `reparti node`.
fn chose_wrong(e: &ChatError) -> bool {
    e.is_bad_input() || matches!(e, ChatError::PortInUse { .. } | ChatError::Bind { .. })
}

fn transport(udp: bool) -> Transport {
    if udp {
        Transport::Udp
    } else {
        Transport::Tcp
    }
}

fn serve(args: &ServeArgs) -> Result<(), ChatError> {
    let ip = match (args.bind, args.ipv6) {
        (Some(ip), _) => ip,
        (None, true) => Ipv6Addr::UNSPECIFIED.into(),
        (None, false) => Ipv4Addr::UNSPECIFIED.into(),
    };
    let server = Server::bind(SocketAddr::new(ip, args.port), transport(args.udp))?;
    let mut out = std::io::stdout().lock();
    let who = if args.interactive { "you type each reply" } else { "each message acknowledged" };
    // Printed before serving: scripts (and the tests) wait for this line to know the
    // port is open, and learn the port when --port 0 chose it.
    writeln!(out, "listening on {} ({}; {who}); Ctrl-C to stop", server.local_addr(), server.transport().name())
        .and_then(|()| out.flush())
        .map_err(ChatError::Output)?;
    let stdin = std::io::stdin();
    // A reply typed at a terminal is already on the screen; one from a pipe or a file is
    // echoed, so the transcript reads the same.
    let echo = !stdin.is_terminal();
    let mut answer = if args.interactive { Answer::Typed { input: stdin.lock(), echo } } else { Answer::Ack };
    server.serve_answering(None, &mut answer, &mut out)?;
    Ok(())
}

fn connect(args: &ConnectArgs) -> Result<(), ChatError> {
    let cfg = ClientConfig {
        server: chat::resolve(&args.server)?,
        transport: transport(args.udp),
        bind_port: args.bind_port,
        timeout: Duration::from_secs(args.timeout),
    };
    chat::run_client(&cfg, std::io::stdin().lock(), &mut std::io::stdout().lock())?;
    Ok(())
}
