//! The EVE output: JSON lines to a file (rotated, forced to disk as asked) or stdout.
use super::{any, nothing, size, types_key, Context, Entry, Key, Kind};
use anyhow::Context as _;
use otsentry_sink::{FileOptions, FileSink, RecordSink, StreamSink};
use std::path::Path;

pub(crate) const KIND: Kind = Kind {
    name: "eve",
    keys: &[
        Key {
            name: "eve",
            flag: "eve",
            value_name: "PATH",
            help: "Write EVE JSON lines to PATH (\"-\" for stdout). Without an output, events are only counted.",
            list: false,
            check: any,
            late: false,
            orphan: "",
        },
        types_key(
            "eve-types",
            "Record types to write to EVE, comma-separated (alert, anomaly, flow, modbus, dnp3, s7comm, s7comm_plus, cotp, segmentation; stats from sense), as Suricata's `types:` list; default all.",
            "chooses what --eve gets",
        ),
        Key {
            name: "rotate-size",
            flag: "eve-rotate-size",
            value_name: "SIZE",
            help: "Rotate the EVE file before it would exceed SIZE (bytes, or with K, M, G): it is renamed PATH.1, PATH.2, ... (the highest the newest) and a new one started.",
            list: false,
            check: size,
            late: false,
            orphan: "rotates the file of --eve",
        },
        Key {
            name: "rotate-interval",
            flag: "eve-rotate-interval",
            value_name: "DURATION",
            help: "Rotate the EVE file this long after it was opened (seconds, or with s, m, h, d).",
            list: false,
            check: |t| crate::eve::parse_duration(t).map(drop),
            late: false,
            orphan: "rotates the file of --eve",
        },
        Key {
            name: "fsync",
            flag: "eve-fsync",
            value_name: "never|batch|DURATION",
            help: "When EVE writes are forced to disk: never (the kernel decides; default), batch (after each batch), or a DURATION (at most that long after a write). SIGHUP reopens the file (after logrotate moved it).",
            list: false,
            check: |t| crate::eve::parse_fsync(t).map(drop),
            late: false,
            orphan: "forces the file of --eve to disk",
        },
    ],
    default_types: None,
    build,
    verify: nothing,
};

fn build(entry: &Entry, _: &Context<'_>) -> anyhow::Result<Box<dyn RecordSink>> {
    let path = Path::new(entry.target());
    if path.as_os_str() == "-" {
        return Ok(Box::new(StreamSink::new("stdout", std::io::stdout())));
    }
    let file = FileOptions {
        rotate_bytes: entry.parsed("rotate-size", crate::eve::parse_size)?,
        rotate_every: entry.parsed("rotate-interval", crate::eve::parse_duration)?,
        fsync: entry.parsed("fsync", crate::eve::parse_fsync)?.unwrap_or_default(),
    };
    let sink = FileSink::create(path, file).with_context(|| format!("{}: cannot create", path.display()))?;
    Ok(Box::new(sink))
}
