use std::net::IpAddr;

/// A protocol or event field as a rule sees it, borrowed from the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValue<'a> {
    U64(u64),
    I64(i64),
    Bool(bool),
    Str(&'a str),
    Bytes(&'a [u8]),
    Ip(IpAddr),
}

/// Lets rules read fields by dotted name (`modbus.function`, `src_port`) without knowing
/// the concrete event type. `None` means the event has no such field.
pub trait FieldAccess {
    fn field(&self, name: &str) -> Option<FieldValue<'_>>;
}
