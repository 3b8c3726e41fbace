//! A ClickHouse cluster on this machine for tests: a private ZooKeeper (Debian's
//! `zookeeper`, admin server off) and four `clickhouse-server` 18.16 processes, each with
//! its own ports and data, as two shards of two replicas. Missing software is a skip
//! reported where a person sees it, and a failure under `CI=true`.
use crate::clickhouse::{free_port, skip, TestServer};
use crate::shared::{report_suite, SuiteOutcome};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The cluster's name in every node's `remote_servers`.
pub const CLUSTER: &str = "otsentry_test";

/// A standalone ZooKeeper on a port of its own.
pub struct ZooKeeper {
    pub port: u16,
    child: Child,
}

impl ZooKeeper {
    fn start(dir: &Path) -> ZooKeeper {
        let port = free_port();
        let data = dir.join("zk-data");
        std::fs::create_dir_all(&data).expect("zookeeper dir");
        let cfg = dir.join("zoo.cfg");
        std::fs::write(
            &cfg,
            format!(
                "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=srvr\n",
                data.display()
            ),
        )
        .expect("zoo.cfg");
        let log = std::fs::File::create(dir.join("zookeeper.out")).expect("zookeeper log");
        let child = Command::new("java")
            .args(["-Xmx256m", "-cp", "/usr/share/java/zookeeper.jar:/usr/share/java/maven3-slf4j-provider.jar:/usr/share/java/maven-shared-utils.jar:/etc/zookeeper/conf_example", "org.apache.zookeeper.server.ZooKeeperServerMain"])
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start ZooKeeper");
        let mut zk = ZooKeeper { port, child };
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if zk.serving() {
                return zk;
            }
            let out = std::fs::read_to_string(dir.join("zookeeper.out")).unwrap_or_default();
            assert!(zk.child.try_wait().ok().flatten().is_none(), "ZooKeeper exited:\n{out}");
            assert!(Instant::now() < until, "ZooKeeper did not answer within 60 s:\n{out}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Whether it serves requests (`ruok` says imok before it does: a server connecting
    /// then is refused, and 18.16's DDL worker crashes on it).
    fn serving(&self) -> bool {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let mut answer = String::new();
        s.write_all(b"srvr").is_ok() && s.read_to_string(&mut answer).is_ok() && answer.contains("Mode: standalone")
    }
}

impl Drop for ZooKeeper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two shards of two replicas: `nodes[0]`, `nodes[1]` hold shard 1, `nodes[2]`,
/// `nodes[3]` shard 2.
pub struct Cluster {
    pub nodes: Vec<TestServer>,
    pub zookeeper: ZooKeeper,
    pub dir: PathBuf,
}

impl Cluster {
    /// Starts ZooKeeper and the four servers under `dir`; `None` (the skip reported) if
    /// the software is not installed.
    #[track_caller]
    pub fn start(dir: &Path) -> Option<Cluster> {
        for (file, package) in
            [("/usr/share/java/zookeeper.jar", "zookeeper"), ("/usr/bin/java", "a Java runtime (zookeeper's dependency)")]
        {
            if !Path::new(file).exists() {
                return skip::<Cluster>(&format!("{file} not found: apt-get install -y {package} (scripts/siem-deps)"));
            }
        }
        std::fs::create_dir_all(dir).expect("cluster dir");
        let zookeeper = ZooKeeper::start(dir);
        let ports: Vec<(u16, u16, u16)> = (0..4).map(|_| (free_port(), free_port(), free_port())).collect();
        let replica = |i: usize| format!("<replica><host>127.0.0.1</host><port>{}</port></replica>", ports[i].1);
        let remote = format!(
            "<remote_servers><{CLUSTER}><shard><internal_replication>true</internal_replication>{}{}</shard><shard><internal_replication>true</internal_replication>{}{}</shard></{CLUSTER}></remote_servers>",
            replica(0),
            replica(1),
            replica(2),
            replica(3)
        );
        let mut nodes = Vec::new();
        for (i, (http, tcp, interserver)) in ports.iter().enumerate() {
            let extra = format!(
                "<interserver_http_port>{interserver}</interserver_http_port>\n  <interserver_http_host>127.0.0.1</interserver_http_host>\n  <zookeeper><node><host>127.0.0.1</host><port>{}</port></node><session_timeout_ms>10000</session_timeout_ms></zookeeper>\n  <macros><shard>0{}</shard><replica>node{}</replica></macros>\n  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>\n  {remote}",
                zookeeper.port,
                i / 2 + 1,
                i + 1
            );
            let node = TestServer::start_node(&dir.join(format!("node{}", i + 1)), *http, *tcp, &extra)?;
            nodes.push(node);
        }
        report_suite(SuiteOutcome::Ran);
        Some(Cluster { nodes, zookeeper, dir: dir.to_path_buf() })
    }
}
