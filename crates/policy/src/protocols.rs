//! What a conversation speaks, as a policy names it: an OT protocol our dissectors
//! found, a well-known IT service by its server port (SSH, RDP, SMB, HTTP from IT into a
//! cell are what matter most), or a bare transport port.
use otsentry_core::{AppProto, IpProto};

/// IT and other OT services by server port, as policies name them.
const WELL_KNOWN: [(&str, IpProto, u16); 24] = [
    ("ftp", IpProto::TCP, 21),
    ("ssh", IpProto::TCP, 22),
    ("telnet", IpProto::TCP, 23),
    ("smtp", IpProto::TCP, 25),
    ("dns", IpProto::UDP, 53),
    ("dns", IpProto::TCP, 53),
    ("http", IpProto::TCP, 80),
    ("http", IpProto::TCP, 8080),
    ("ntp", IpProto::UDP, 123),
    ("msrpc", IpProto::TCP, 135),
    ("netbios", IpProto::UDP, 137),
    ("netbios", IpProto::TCP, 139),
    ("snmp", IpProto::UDP, 161),
    ("ldap", IpProto::TCP, 389),
    ("https", IpProto::TCP, 443),
    ("smb", IpProto::TCP, 445),
    ("syslog", IpProto::UDP, 514),
    ("mqtt", IpProto::TCP, 1883),
    ("iec104", IpProto::TCP, 2404),
    ("rdp", IpProto::TCP, 3389),
    ("opcua", IpProto::TCP, 4840),
    ("vnc", IpProto::TCP, 5900),
    ("ethernetip", IpProto::TCP, 44818),
    ("bacnet", IpProto::UDP, 47808),
];

/// A conversation's service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Found by a dissector (by content or port).
    App(AppProto),
    /// A well-known service by its server port.
    Named(&'static str),
    /// Anything else: transport and server port.
    Port(u8, u16),
}

impl Service {
    /// The name a policy writes (`modbus`, `ssh`, `tcp/8443`).
    pub fn name(&self) -> String {
        match self {
            Service::App(a) => a.name().to_string(),
            Service::Named(n) => (*n).to_string(),
            Service::Port(t, p) => format!("{}/{p}", transport_name(*t)),
        }
    }

    /// Whether a dissector decodes it (so its functions have classes).
    pub fn is_ot(&self) -> bool {
        matches!(self, Service::App(_))
    }

    /// Reads a policy's protocol name; `protocols` are the registered ones.
    pub fn parse(text: &str, protocols: &[AppProto]) -> Result<Service, String> {
        let t = text.trim();
        if let Some(&app) = protocols.iter().find(|p| p.name() == t) {
            return Ok(Service::App(app));
        }
        if let Some(&(name, _, _)) = WELL_KNOWN.iter().find(|(n, _, _)| *n == t) {
            return Ok(Service::Named(name));
        }
        if t == "icmp" {
            return Ok(Service::Named("icmp"));
        }
        if let Some((transport, port)) = t.split_once('/') {
            let proto = match transport {
                "tcp" => IpProto::TCP,
                "udp" => IpProto::UDP,
                _ => return Err(format!("{t:?}: transport must be tcp or udp")),
            };
            let port = port.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(|| format!("{t:?}: not a port number (1-65535)"))?;
            return Ok(service_of(None, proto, port));
        }
        let mut names: Vec<&str> = protocols.iter().map(|a| a.name()).collect();
        names.extend(WELL_KNOWN.iter().map(|(n, _, _)| *n));
        names.push("icmp");
        names.dedup();
        let hint = otsentry_core::nearest(t, names.iter().copied()).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
        Err(format!("{t:?} is not a protocol: one of {}, tcp/PORT, udp/PORT or any{hint}", names.join(", ")))
    }
}

fn transport_name(t: u8) -> String {
    match IpProto(t) {
        IpProto::TCP => "tcp".into(),
        IpProto::UDP => "udp".into(),
        other => format!("ip{}", other.0),
    }
}

/// The service of a conversation: the dissector's protocol if one was found, else the
/// well-known service or the bare port of its server side.
pub fn service_of(app: Option<AppProto>, transport: IpProto, server_port: u16) -> Service {
    if let Some(app) = app {
        return Service::App(app);
    }
    // Echo, unreachable and the rest, over IPv4 or IPv6, are one service to a policy.
    if matches!(transport, IpProto::ICMP | IpProto::ICMPV6) {
        return Service::Named("icmp");
    }
    match WELL_KNOWN.iter().find(|&&(_, t, p)| t == transport && p == server_port) {
        Some(&(name, _, _)) => Service::Named(name),
        None => Service::Port(transport.0, server_port),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const MODBUS: AppProto = AppProto::new(1, "modbus");
    const DNP3: AppProto = AppProto::new(2, "dnp3");
    /// Protocols as a registry would give them (the policy crate knows none).
    pub(crate) const KNOWN: [AppProto; 2] = [MODBUS, DNP3];

    #[test]
    fn names_and_ports() {
        assert_eq!(Service::parse("modbus", &KNOWN), Ok(Service::App(MODBUS)));
        assert_eq!(Service::parse("rdp", &KNOWN), Ok(Service::Named("rdp")));
        assert_eq!(Service::parse("tcp/3389", &KNOWN), Ok(Service::Named("rdp")));
        assert_eq!(Service::parse("tcp/8443", &KNOWN), Ok(Service::Port(6, 8443)));
        assert!(Service::parse("gopher", &KNOWN).unwrap_err().contains("ssh"));
        assert!(Service::parse("sctp/1", &KNOWN).is_err());
        assert_eq!(service_of(None, IpProto::TCP, 445).name(), "smb");
        assert_eq!(service_of(None, IpProto::UDP, 9999).name(), "udp/9999");
        assert_eq!(service_of(Some(DNP3), IpProto::TCP, 20000).name(), "dnp3");
        assert_eq!(service_of(None, IpProto::ICMPV6, 0), Service::parse("icmp", &KNOWN).unwrap());
    }
}
