//! What a worker of several defers to the cross stage ([`crate::cross`]): each piece
//! of work on state that spans address pairs, owned (it crosses threads) and stamped
//! with the capture position of the frame or marker that caused it.
use crate::scan::Reason;
use crate::sender::{Print, Seen};
use otsentry_core::{Alert, EventHeader, Timestamp, Vlans};
use otsentry_rules::{DeferredGate, Subject};
use std::net::IpAddr;

/// What rules see of an event's flow, owned (it crosses threads).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OwnedSubject {
    pub(crate) ts: Timestamp,
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) src_port: Option<u16>,
    pub(crate) dst_port: Option<u16>,
    pub(crate) vlans: Vlans,
    pub(crate) to_server: bool,
    pub(crate) flow_id: u64,
}

impl OwnedSubject {
    pub(crate) fn of(s: &Subject<'_>) -> OwnedSubject {
        OwnedSubject {
            ts: s.ts,
            src: s.src,
            dst: s.dst,
            src_port: s.src_port,
            dst_port: s.dst_port,
            vlans: Vlans::from_slice(s.vlan),
            to_server: s.to_server,
            flow_id: s.flow_id,
        }
    }

    pub(crate) fn subject(&self) -> Subject<'_> {
        Subject {
            ts: self.ts,
            src: self.src,
            dst: self.dst,
            src_port: self.src_port,
            dst_port: self.dst_port,
            vlan: self.vlans.as_slice(),
            to_server: self.to_server,
            flow_id: self.flow_id,
        }
    }
}

/// Where an event happened: what rules see, and its record header.
#[derive(Clone, Debug)]
pub(crate) struct Place {
    pub(crate) subject: OwnedSubject,
    pub(crate) header: EventHeader,
}

/// One piece of cross-pair work a worker deferred.
#[derive(Debug)]
pub(crate) enum Item {
    /// A rule match whose threshold or suppression spans pairs: the alert, if it passes.
    Gate(DeferredGate, Box<Alert>),
    /// An alert the worker raised itself, for the run's alert hook (in capture order).
    Raised(Box<Alert>),
    /// A failed attempt (a refused or half-open connection, a ping, an ARP request).
    Scan { src: IpAddr, dst: IpAddr, port: u16, reason: Reason, place: Box<Place> },
    /// A session side opened, changed or earned credit (the sender watch's host part).
    Sender(Box<SenderItem>),
    /// `ip` sent (or received) through the MAC of `print`.
    SentFor { print: Print, ip: IpAddr },
    /// Packets a session sent with `print` that its address was not credited with yet.
    Credit { ip: IpAddr, print: Print, packets: u64 },
    /// A worker's host sets watched during the warm-up, at its end.
    Roles(Box<crate::roles::RoleWatch>),
    /// An asset's departure from the baseline (new, or a changed identity), as the
    /// worker's detector raised it: the first across workers alerts.
    AssetFinding(Box<(otsentry_baseline::Finding, Place)>),
    /// What a worker saw of an address that its own book did not know (or a host's
    /// sighting, for the last-seen time): the cross stage's book records it.
    Asset(Box<crate::assets::AssetItem>),
}

/// The host table's part of one sender observation.
#[derive(Debug)]
pub(crate) struct SenderItem {
    pub(crate) seen: Seen,
    pub(crate) credit: bool,
    pub(crate) print: Print,
    pub(crate) src: IpAddr,
    /// Both ends have other addresses (a loopback trace's two senders share one).
    pub(crate) own: bool,
    /// The fingerprint the session side opened with.
    pub(crate) first: Option<Print>,
    pub(crate) place: Place,
}

/// A worker's deferred items, each stamped with the capture-order number of the frame
/// or marker being handled when it arose.
#[derive(Debug, Default)]
pub(crate) struct Deferral {
    seq: u64,
    items: Vec<(u64, Item)>,
    /// Whether the run has an alert hook (otherwise raised alerts need no forwarding).
    pub(crate) forward_raised: bool,
}

impl Deferral {
    pub(crate) fn new(forward_raised: bool) -> Deferral {
        Deferral { forward_raised, ..Deferral::default() }
    }

    pub(crate) fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    pub(crate) fn push(&mut self, item: Item) {
        self.items.push((self.seq, item));
    }

    pub(crate) fn take(&mut self) -> Vec<(u64, Item)> {
        std::mem::take(&mut self.items)
    }
}
