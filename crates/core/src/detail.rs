//! An anomaly's details as a parser finds them: a template and up to three values, put
//! into words only when something reads them (a record or alert written, a rule on
//! `anomaly.reason`). `Copy`, so a parser's list of issues allocates no text.

/// One value of a [`Detail`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    None,
    U(u64),
    S(&'static str),
}

macro_rules! arg_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Arg {
                Arg::U(v as u64)
            }
        }
    )*};
}
arg_from!(u8, u16, u32, u64, usize);

impl From<&'static str> for Arg {
    fn from(s: &'static str) -> Arg {
        Arg::S(s)
    }
}

/// A template (`{}`, `{:02X}`, `{:04X}` and `{:X}` take the values in order) and up to
/// three values (kept small: parsers hold their issues by value).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Detail {
    template: &'static str,
    args: [Arg; 3],
}

impl Detail {
    pub const fn new(template: &'static str, args: [Arg; 3]) -> Detail {
        Detail { template, args }
    }
}

/// Words without values (a `{` in them would be read as a placeholder).
impl From<&'static str> for Detail {
    fn from(text: &'static str) -> Detail {
        Detail::new(text, [Arg::None; 3])
    }
}

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rest = self.template;
        let mut args = self.args.iter();
        while let Some(open) = rest.find('{') {
            f.write_str(rest.get(..open).unwrap_or_default())?;
            let after = rest.get(open + 1..).unwrap_or_default();
            let Some(close) = after.find('}') else {
                return f.write_str(rest.get(open..).unwrap_or_default());
            };
            let spec = after.get(..close).unwrap_or_default();
            match (args.next().copied().unwrap_or(Arg::None), spec) {
                (Arg::U(n), ":02X") => write!(f, "{n:02X}")?,
                (Arg::U(n), ":04X") => write!(f, "{n:04X}")?,
                (Arg::U(n), ":X") => write!(f, "{n:X}")?,
                (Arg::U(n), _) => write!(f, "{n}")?,
                (Arg::S(s), _) => f.write_str(s)?,
                (Arg::None, _) => f.write_str("?")?,
            }
            rest = after.get(close + 1..).unwrap_or_default();
        }
        f.write_str(rest)
    }
}

impl std::fmt::Debug for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

/// A [`Detail`]: `detail!("quantity {} outside 1..={}", quantity, max)`.
#[macro_export]
macro_rules! detail {
    ($t:literal) => {
        $crate::Detail::new($t, [$crate::Arg::None; 3])
    };
    ($t:literal, $a:expr) => {
        $crate::Detail::new($t, [$crate::Arg::from($a), $crate::Arg::None, $crate::Arg::None])
    };
    ($t:literal, $a:expr, $b:expr) => {
        $crate::Detail::new($t, [$crate::Arg::from($a), $crate::Arg::from($b), $crate::Arg::None])
    };
    ($t:literal, $a:expr, $b:expr, $c:expr) => {
        $crate::Detail::new($t, [$crate::Arg::from($a), $crate::Arg::from($b), $crate::Arg::from($c)])
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_fill_the_template_in_order() {
        let d = crate::detail!("function 0x{:02X} at {} of {}", 0x5au8, 7usize, "read");
        assert_eq!(d.to_string(), "function 0x5A at 7 of read");
        assert_eq!(crate::detail!("{:04X}", 0xbeefu16).to_string(), "BEEF");
        assert_eq!(crate::detail!("empty PDU").to_string(), "empty PDU");
        assert_eq!(crate::detail!("{} and {}", 1u8).to_string(), "1 and ?", "a missing value shows, never panics");
        assert_eq!(crate::detail!("open { brace", 1u8).to_string(), "open { brace");
    }
}
