//! A tiny authoritative DNS server on loopback (UDP, hickory-proto for the wire format): it
//! answers TXT and A queries from a table the test fills, so domain proofs (and webhook
//! targets) run without the internet.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::{RData, Record, RecordType};

type Records = Arc<Mutex<HashMap<String, Vec<String>>>>;

pub struct DnsServer {
    pub addr: SocketAddr,
    records: Records,
}

impl DnsServer {
    /// Starts answering on a free loopback port, on a thread of its own, until the test ends.
    pub fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind dns");
        let addr = socket.local_addr().expect("dns addr");
        let records: Records = Arc::default();
        let table = records.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                if let Some(answer) = buf.get(..n).and_then(|q| answer(q, &table)) {
                    let _ = socket.send_to(&answer, from);
                }
            }
        });
        Self { addr, records }
    }

    /// Publishes an A record: `domain` resolves to `ip`.
    pub fn add_a(&self, domain: &str, ip: std::net::Ipv4Addr) {
        self.add_txt(
            &format!("a-record.{}", domain.trim_end_matches('.')),
            &ip.to_string(),
        );
    }

    /// Publishes a TXT record `value` on `domain`.
    pub fn add_txt(&self, domain: &str, value: &str) {
        self.records
            .lock()
            .expect("records")
            .entry(domain.trim_end_matches('.').to_lowercase())
            .or_default()
            .push(value.to_owned());
    }
}

fn answer(query: &[u8], table: &Records) -> Option<Vec<u8>> {
    let query = Message::from_vec(query).ok()?;
    let mut reply = Message::new();
    reply
        .set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(query.op_code())
        .set_authoritative(true)
        .set_recursion_desired(query.recursion_desired())
        .set_recursion_available(true)
        .add_queries(query.queries().to_vec());
    let mut found = false;
    for q in query.queries() {
        let name = q.name().to_ascii().trim_end_matches('.').to_lowercase();
        let values = table.lock().ok()?.get(&name).cloned().unwrap_or_default();
        if q.query_type() == RecordType::A {
            let key = format!("a-record.{name}");
            let ips = table.lock().ok()?.get(&key).cloned().unwrap_or_default();
            for ip in ips
                .iter()
                .filter_map(|v| v.parse::<std::net::Ipv4Addr>().ok())
            {
                found = true;
                reply.add_answer(Record::from_rdata(q.name().clone(), 60, RData::A(A(ip))));
            }
        }
        if q.query_type() == RecordType::TXT {
            for v in values {
                found = true;
                reply.add_answer(Record::from_rdata(
                    q.name().clone(),
                    60,
                    RData::TXT(TXT::new(vec![v])),
                ));
            }
        }
    }
    if !found {
        reply.set_response_code(ResponseCode::NXDomain);
    }
    reply.to_vec().ok()
}
