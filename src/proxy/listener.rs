//! Listening sockets. Every worker gets its own `SO_REUSEPORT` socket per bind
//! address, so the kernel spreads connections over the workers and a
//! connection lives its whole life on one core. All sockets are bound at
//! start, before any worker runs, so an address in use is reported at once.

use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

use super::error::StartError;
use crate::compile::program::{BindAddr, Program, ProxyId};

/// One listening socket of one worker.
#[derive(Debug)]
pub struct Listener {
    pub proxy: ProxyId,
    pub addr: SocketAddr,
    pub socket: std::net::TcpListener,
}

/// Binds every address of every enabled frontend, `workers` times.
/// Returns the listeners of each worker.
pub fn bind_all(program: &Program, workers: usize) -> Result<Vec<Vec<Listener>>, StartError> {
    let mut per_worker: Vec<Vec<Listener>> = (0..workers).map(|_| Vec::new()).collect();
    for proxy in program.frontends().filter(|p| !p.disabled) {
        for bind in &proxy.binds {
            for addr in &bind.addrs {
                let BindAddr::Inet(addr) = addr else {
                    return Err(StartError::UnsupportedBind {
                        proxy: proxy.name.clone(),
                        addr: format!("{addr:?}"),
                    });
                };
                // Port 0 means "any": the first socket picks the port and the
                // others share it.
                let mut actual = *addr;
                for list in per_worker.iter_mut() {
                    let socket = bind_one(actual, bind.v6only && !bind.v4v6)?;
                    if actual.port() == 0 {
                        actual = socket.local_addr().map_err(|source| StartError::Bind {
                            addr: addr.to_string(),
                            source,
                        })?;
                    }
                    list.push(Listener {
                        proxy: proxy.id,
                        addr: actual,
                        socket,
                    });
                }
            }
        }
    }
    Ok(per_worker)
}

/// One non-blocking listening socket with `SO_REUSEADDR` and `SO_REUSEPORT`.
pub fn bind_one(addr: SocketAddr, v6only: bool) -> Result<std::net::TcpListener, StartError> {
    let err = |source| StartError::Bind {
        addr: addr.to_string(),
        source,
    };
    let socket =
        Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(err)?;
    socket.set_reuse_address(true).map_err(err)?;
    socket.set_reuse_port(true).map_err(err)?;
    if addr.is_ipv6() {
        socket.set_only_v6(v6only).map_err(err)?;
    }
    socket.set_nonblocking(true).map_err(err)?;
    socket.bind(&addr.into()).map_err(err)?;
    socket.listen(1024).map_err(err)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_in_use_is_an_error_naming_the_address() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0");
        let Ok(taken) = taken else { return };
        let Ok(addr) = taken.local_addr() else { return };
        let err = bind_one(addr, false).err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains(&addr.to_string()), "{text}");
    }
}
