//! One capture handle per worker, joined in a kernel fanout group (`PACKET_FANOUT`): the
//! kernel splits an interface's frames among the group's sockets. Its hash mode hashes
//! the 5-tuple, which would put one address pair's connections on different workers;
//! the group runs a classic BPF program instead (`PACKET_FANOUT_CBPF`) that returns the
//! address pair's XOR (the same both ways), so a worker gets whole address pairs, as
//! the reader design gives them. Fragments carry their addresses, so they stay
//! together without `PACKET_FANOUT_FLAG_DEFRAG` (which would hide them from the
//! sensor). Tunnelled traffic is split by its outer pair: only the reader design peels
//! tunnels before it hashes.
use std::os::fd::RawFd;

const SOL_PACKET: libc::c_int = 263;
const PACKET_FANOUT: libc::c_int = 18;
const PACKET_FANOUT_DATA: libc::c_int = 22;
const PACKET_FANOUT_CBPF: u32 = 6;

// Classic BPF opcodes.
const LDH_ABS: u16 = 0x28;
const LDW_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const TAX: u16 = 0x07;
const XOR_X: u16 = 0xac;
const RET_A: u16 = 0x16;
const RET_K: u16 = 0x06;
/// Loads relative to the network header (`SKF_NET_OFF`), wherever the link header and
/// VLAN tags put it; the frame's EtherType as the kernel read it (`SKF_AD_PROTOCOL`).
const NET: u32 = 0xFFF0_0000;
const PROTOCOL: u32 = 0xFFFF_F000;

fn op(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The program: IPv4 → source XOR destination; IPv6 → the XOR of both addresses' eight
/// words; anything else (ARP, ...) → 0, the first worker.
fn program() -> Vec<libc::sock_filter> {
    let mut p = vec![
        op(LDH_ABS, 0, 0, PROTOCOL),
        op(JEQ_K, 0, 5, 0x0800),
        op(LDW_ABS, 0, 0, NET + 12),
        op(TAX, 0, 0, 0),
        op(LDW_ABS, 0, 0, NET + 16),
        op(XOR_X, 0, 0, 0),
        op(RET_A, 0, 0, 0),
    ];
    let mut v6 = vec![op(LDW_ABS, 0, 0, NET + 8)];
    for word in 1..8u32 {
        v6.extend([op(TAX, 0, 0, 0), op(LDW_ABS, 0, 0, NET + 8 + 4 * word), op(XOR_X, 0, 0, 0)]);
    }
    v6.push(op(RET_A, 0, 0, 0));
    let skip = u8::try_from(v6.len()).unwrap_or(u8::MAX);
    p.push(op(JEQ_K, 0, skip, 0x86DD));
    p.extend(v6);
    p.push(op(RET_K, 0, 0, 0));
    p
}

/// The group an interface's handles join: `base` (one per sensor process) mixed with
/// the interface's name, since a group spans one device.
pub(crate) fn group_id(base: u16, iface: &str) -> u16 {
    let h = iface.bytes().fold(0x811C_9DC5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    base ^ (h as u16) ^ ((h >> 16) as u16)
}

/// Joins socket `fd` to fanout group `id` with the address-pair program.
pub(crate) fn join(fd: RawFd, id: u16) -> std::io::Result<()> {
    let arg: u32 = u32::from(id) | (PACKET_FANOUT_CBPF << 16);
    let prog = program();
    let fprog = libc::sock_fprog { len: u16::try_from(prog.len()).unwrap_or(u16::MAX), filter: prog.as_ptr().cast_mut() };
    #[allow(unsafe_code)]
    // SAFETY: `fd` is an open packet socket owned by the caller's capture handle; the
    // option values point at live locals of the sizes passed.
    let joined = unsafe {
        libc::setsockopt(fd, SOL_PACKET, PACKET_FANOUT, std::ptr::from_ref(&arg).cast(), std::mem::size_of::<u32>() as libc::socklen_t)
    };
    if joined != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(unsafe_code)]
    // SAFETY: as above; the kernel copies the program before returning.
    let set = unsafe {
        libc::setsockopt(
            fd,
            SOL_PACKET,
            PACKET_FANOUT_DATA,
            std::ptr::from_ref(&fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if set != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_s_jumps_land_on_its_returns() {
        let p = program();
        // The IPv4 test's false branch lands on the IPv6 test, whose false branch lands
        // on the last instruction (return 0); both true branches fall through.
        let v4 = &p[1];
        assert_eq!((v4.code, v4.k), (JEQ_K, 0x0800));
        assert_eq!(p[2 + usize::from(v4.jf)].k, 0x86DD);
        let at = 2 + usize::from(v4.jf);
        assert_eq!(at + 1 + usize::from(p[at].jf), p.len() - 1);
        assert_eq!(p.last().map(|i| (i.code, i.k)), Some((RET_K, 0)));
        // The IPv6 branch reads the 32 address bytes (offsets 8 to 36 of the header).
        let loads: Vec<u32> = p.iter().filter(|i| i.code == LDW_ABS && i.k >= NET + 8).map(|i| i.k - NET).collect();
        assert_eq!(loads, [12, 16, 8, 12, 16, 20, 24, 28, 32, 36]);
    }

    #[test]
    fn each_interface_has_its_own_group() {
        assert_ne!(group_id(7, "eth1"), group_id(7, "eth2"));
        assert_eq!(group_id(7, "eth1"), group_id(7, "eth1"));
    }
}
