//! The fleet through nginx (issue 13 §6): two instances on one PostgreSQL database behind a
//! real nginx started from `deploy/nginx.conf.example` (helpers/fleet.rs). PostgreSQL only, as
//! one database shared by two instances is the point: `scripts/test` runs them in its
//! PostgreSQL run and skips `fleet::` in the SQLite one; run on SQLite, they fail.

mod client_address;
mod revocation;
mod sign_in_limits;

use crate::helpers::fixtures::sign_up;
use crate::helpers::fleet::Fleet;
use crate::helpers::{email, Person};

/// A company signed up on the first instance directly (from 127.0.0.1, an untrusted peer);
/// its owner's browser keeps talking to that instance.
async fn owner(fleet: &Fleet, company: &str) -> Person {
    sign_up(
        &fleet.instances()[0],
        company,
        "Olga Owner",
        &email("owner"),
    )
    .await
}

/// The rows of the sessions page, one per signed-in browser.
fn session_rows(html: &str) -> Vec<String> {
    html.split("data-testid=\"session-row\"")
        .skip(1)
        .map(|row| row.split("</tr>").next().unwrap().to_owned())
        .collect()
}
