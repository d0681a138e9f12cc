//! `reparti chat`: the labs' first client and server (TP1 over TCP, TP2 over UDP).
//!
//! The dialogue itself lives in [`reparti_labs::chat`]; this module only turns flags into
//! addresses and errors into exit statuses (2 for a bad address, 1 for a failure).

use clap::{Args, Subcommand};
use reparti_labs::chat::{self, ChatError, ClientConfig, Server, Transport};
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
    /// Listen for clients and answer each line with `ack: <line>`, until killed (Ctrl-C).
    /// Over TCP one client at a time: the next is accepted when the dialogue ends.
    Serve(ServeArgs),
    /// Send each line typed (or piped) on standard input to a server and print its answer;
    /// `fin` (any case) or an empty line ends the dialogue.
    Connect(ConnectArgs),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The port to listen on (0 picks a free one, printed at start).
    #[arg(short, long)]
    pub port: u16,

    /// Use UDP datagrams (TP2) instead of a TCP connection (TP1).
    #[arg(long)]
    pub udp: bool,

    /// Listen on IPv6 `[::]` (which also takes IPv4 clients on most systems).
    #[arg(long, conflicts_with = "bind")]
    pub ipv6: bool,

    /// The local address to listen on, e.g. 127.0.0.1 [default: 0.0.0.0, every interface].
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<IpAddr>,
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

    /// Seconds to wait for the connection (TCP) or for each answer (UDP).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

pub fn run(args: &ChatArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        ChatCommand::Serve(a) => serve(a),
        ChatCommand::Connect(a) => connect(a),
    }
    .map_err(|e| if e.is_bad_input() { crate::error::usage(e.to_string()) } else { anyhow::Error::new(e) })?;
    Ok(ExitCode::SUCCESS)
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
    // Printed before serving: scripts (and the tests) wait for this line to know the
    // port is open, and learn the port when --port 0 chose it.
    use std::io::Write;
    writeln!(out, "listening on {} ({}); Ctrl-C to stop", server.local_addr(), server.transport().name())
        .and_then(|()| out.flush())
        .map_err(ChatError::Output)?;
    server.serve_clients(None, &mut out)?;
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
