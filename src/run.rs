//! Running a checked program: the stick tables, the data plane and the
//! runtime API, sharing one set of live state.

use std::sync::Arc;

use crate::api::format::{Page, page};
use crate::proxy::{self, ServeOptions, ServicePage, Services};
use crate::reload::Checked;
use crate::stick::Tables;

/// Everything a running lbd holds.
pub struct Running {
    pub server: proxy::Server,
    /// Kept alive for as long as the process serves: dropping it closes
    /// the stats sockets.
    pub api: crate::api::ApiHandle,
}

/// Starts the data plane and the runtime API on `checked`.
pub fn start(checked: Checked) -> Result<Running, String> {
    let program = Arc::new(checked.program);
    let tables = Arc::new(Tables::new(program.tables.clone()));
    let render = {
        let (program, tables) = (Arc::clone(&program), Arc::clone(&tables));
        move |which: ServicePage| {
            let which = match which {
                ServicePage::Html { refresh_s } => Page::Html { refresh_s },
                ServicePage::Csv => Page::Csv,
                ServicePage::Prometheus => Page::Prometheus,
            };
            page(&program, &tables, which)
        }
    };
    let options = ServeOptions {
        tables: Some(Arc::clone(&tables)),
        tls: Some(Arc::new(checked.tls)),
        services: Services {
            render: Some(Arc::new(render)),
        },
        ..ServeOptions::default()
    };
    let api = crate::api::spawn(Arc::clone(&program), Arc::clone(&tables))
        .map_err(|e| format!("[ALERT] {e}"))?;
    let server = proxy::serve(program, options).map_err(|e| format!("[ALERT] {e}"))?;
    api.set_pipes(server.pipes());
    api.set_streams(server.streams());
    Ok(Running { server, api })
}
