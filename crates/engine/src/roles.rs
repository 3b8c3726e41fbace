//! The host sets the rules name (`$HMI`, `$ENGINEERING`, `$MASTERS`), inferred from the
//! traffic when no variables file defines them. A client earns a set by doing its work
//! as part of a routine during the warm-up: it polled (read) at least `MIN_READS` times
//! over at least `LEAD`, and it did the set's work (wrote, programmed, operated). A host
//! that appears only doing something dangerous earns nothing, so an incident capture
//! replayed whole still judges its attacker; one that polls for a while first is taken
//! for an HMI (a variables file or a baseline then says otherwise).
use otsentry_core::{AppProto, FunctionClass, Timestamp};
use std::collections::HashMap;
use std::net::IpAddr;

/// Polls a client must have made to count as routine.
const MIN_READS: u32 = 3;
/// How long a client's polling must span.
const LEAD_NS: i64 = 10_000_000_000;
/// Clients watched at most; past it new clients are not learned (counted).
const MAX_CLIENTS: usize = 65_536;

#[derive(Clone, Copy, Debug, Default)]
struct Acts {
    first_read: Option<i64>,
    last_read: i64,
    reads: u32,
    /// First Modbus or S7 write, first program transfer, first DNP3 control.
    wrote: Option<i64>,
    programmed: Option<i64>,
    operated: Option<i64>,
}

impl Acts {
    /// Whether the client polls routinely and did the act (`first`: when it first did).
    fn routine(&self, first: Option<i64>) -> bool {
        match (self.first_read, first) {
            (Some(r), Some(_)) => self.reads >= MIN_READS && self.last_read.saturating_sub(r) >= LEAD_NS,
            _ => false,
        }
    }
}

/// The inferred sets, each sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InferredSets {
    pub hmi: Vec<IpAddr>,
    pub engineering: Vec<IpAddr>,
    pub masters: Vec<IpAddr>,
}

impl InferredSets {
    /// The names of the sets a warm-up infers, as rules write them (`$HMI`, ...).
    pub const NAMES: [&'static str; 3] = ["HMI", "ENGINEERING", "MASTERS"];

    /// Each set with its name, in [`InferredSets::NAMES`] order.
    pub fn named(&self) -> [(&'static str, &[IpAddr]); 3] {
        let [hmi, engineering, masters] = Self::NAMES;
        [(hmi, &self.hmi), (engineering, &self.engineering), (masters, &self.masters)]
    }

    /// As a variables file (`HMI: [10.0.1.10]`), for the rules and for a person to review.
    pub fn to_vars_yaml(&self) -> String {
        let mut s = String::from("# Host sets inferred from the traffic's warm-up by otsentry: review before use.\n");
        for (name, hosts) in self.named() {
            let list: Vec<String> = hosts.iter().map(IpAddr::to_string).collect();
            s.push_str(&format!("{name}: [{}]\n", list.join(", ")));
        }
        s
    }
}

/// Watches clients' requests while the warm-up lasts.
#[derive(Debug, Default)]
pub(crate) struct RoleWatch {
    clients: HashMap<IpAddr, Acts>,
    pub(crate) dropped: u64,
}

impl RoleWatch {
    /// A request of `class` from `client` over `app` at `ts`.
    pub(crate) fn request(&mut self, client: IpAddr, app: AppProto, class: FunctionClass, ts: Timestamp) {
        if self.clients.len() >= MAX_CLIENTS && !self.clients.contains_key(&client) {
            self.dropped += 1;
            return;
        }
        let a = self.clients.entry(client).or_default();
        let now = ts.as_nanos();
        let first = |slot: &mut Option<i64>| {
            slot.get_or_insert(now);
        };
        match (class, app) {
            (FunctionClass::Read, _) => {
                first(&mut a.first_read);
                a.last_read = a.last_read.max(now);
                a.reads = a.reads.saturating_add(1);
            }
            (FunctionClass::Write | FunctionClass::Control, app) if app.masters() => first(&mut a.operated),
            (FunctionClass::Write, _) => first(&mut a.wrote),
            (FunctionClass::Program, _) => first(&mut a.programmed),
            _ => {}
        }
    }

    /// Another worker's watch added in: each client's first acts, its reads summed.
    pub(crate) fn merge(&mut self, other: RoleWatch) {
        self.dropped += other.dropped;
        let earliest = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        for (ip, o) in other.clients {
            if self.clients.len() >= MAX_CLIENTS && !self.clients.contains_key(&ip) {
                self.dropped += 1;
                continue;
            }
            let a = self.clients.entry(ip).or_default();
            a.first_read = earliest(a.first_read, o.first_read);
            a.last_read = a.last_read.max(o.last_read);
            a.reads = a.reads.saturating_add(o.reads);
            a.wrote = earliest(a.wrote, o.wrote);
            a.programmed = earliest(a.programmed, o.programmed);
            a.operated = earliest(a.operated, o.operated);
        }
    }

    pub(crate) fn sets(&self) -> InferredSets {
        let pick = |f: &dyn Fn(&Acts) -> Option<i64>| {
            let mut v: Vec<IpAddr> = self.clients.iter().filter(|(_, a)| a.routine(f(a))).map(|(ip, _)| *ip).collect();
            v.sort_unstable();
            v
        };
        InferredSets { hmi: pick(&|a| a.wrote), engineering: pick(&|a| a.programmed), masters: pick(&|a| a.operated) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn at(s: i64) -> Timestamp {
        Timestamp(s * S)
    }

    #[test]
    fn a_client_earns_a_set_by_polling_as_it_writes() {
        let mut w = RoleWatch::default();
        let (hmi, intruder, eager): (IpAddr, IpAddr, IpAddr) =
            ("10.0.1.10".parse().unwrap(), "10.0.9.9".parse().unwrap(), "10.0.9.8".parse().unwrap());
        for t in 0..20 {
            w.request(hmi, otsentry_proto_modbus::MODBUS, FunctionClass::Read, at(t));
        }
        w.request(hmi, otsentry_proto_modbus::MODBUS, FunctionClass::Write, at(20));
        // Writes without polling, and a few seconds of polls around a write.
        w.request(intruder, otsentry_proto_modbus::MODBUS, FunctionClass::Write, at(5));
        for t in 15..20 {
            w.request(eager, otsentry_proto_modbus::MODBUS, FunctionClass::Read, at(t));
        }
        w.request(eager, otsentry_proto_modbus::MODBUS, FunctionClass::Write, at(21));
        let sets = w.sets();
        assert_eq!(sets.hmi, vec![hmi]);
        assert!(sets.engineering.is_empty() && sets.masters.is_empty());
        assert_eq!(sets.to_vars_yaml().lines().nth(1), Some("HMI: [10.0.1.10]"));
    }

    #[test]
    fn dnp3_control_makes_a_master_and_programming_an_engineering_station() {
        let mut w = RoleWatch::default();
        let (master, eng): (IpAddr, IpAddr) = ("10.0.3.1".parse().unwrap(), "10.0.2.5".parse().unwrap());
        for t in 0..12 {
            w.request(master, otsentry_proto_dnp3::DNP3, FunctionClass::Read, at(t));
            w.request(eng, otsentry_proto_s7comm::S7COMM, FunctionClass::Read, at(t));
        }
        w.request(master, otsentry_proto_dnp3::DNP3, FunctionClass::Control, at(30));
        w.request(eng, otsentry_proto_s7comm::S7COMM, FunctionClass::Program, at(30));
        let sets = w.sets();
        assert_eq!((sets.masters, sets.engineering, sets.hmi), (vec![master], vec![eng], vec![]));
    }
}
