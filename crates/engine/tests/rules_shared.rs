//! The default pack on third-party captures: labelled attacks raise their alerts with
//! their techniques, and routine plant traffic raises nothing high or critical.
use otsentry_core::{Alert, Severity};
use otsentry_pcapgen::shared;
use pack::alerts;

mod pack;

fn of<'a>(alerts: &'a [Alert], rule: &str) -> Vec<&'a Alert> {
    alerts.iter().filter(|a| &*a.alert.info.rule_id == rule).collect()
}

fn techniques(a: &Alert) -> Vec<&'static str> {
    a.alert.info.techniques.iter().map(|t| t.id).collect()
}

#[test]
fn labelled_attacks_raise_their_alerts() {
    let Some(dir) = shared::pcaps_dir() else { return };
    for stop in ["s7comm/gymgit/step7_s300_stop.pcapng", "s7comm/gymgit/snap7_s300_stop.pcapng"] {
        let got = alerts(&dir.join(stop));
        let stops = of(&got, "s7comm.plc_stop");
        assert_eq!(stops.len(), 1, "{stop}: one PLC stop alert");
        assert!(techniques(stops[0]).contains(&"T0858") && techniques(stops[0]).contains(&"T0816"), "{stop}");
        assert_eq!(stops[0].alert.info.severity, Severity::Critical);
    }
    for (download, block) in [
        ("s7comm/gymgit/step7_s300_download.pcapng", "block_type=DB block_number=1"),
        ("s7comm/gymgit/tia_s300_downloadOb1.pcapng", "block_type=OB block_number=1"),
        ("s7comm/iti/s7comm_downloading_block_db1.pcap", "block_type=DB block_number=1"),
    ] {
        let got = alerts(&dir.join(download));
        let d = of(&got, "s7comm.program.download");
        assert!(!d.is_empty(), "{download}: a program download alert");
        assert!(techniques(d[0]).contains(&"T0843"), "{download}");
        assert!(d[0].alert.detail.contains(block), "{download}: names the block: {}", d[0].alert.detail);
        let (app, body) = d[0].app.as_ref().expect("the job beside the alert");
        assert_eq!(*app, "s7comm");
        assert!(body.get().contains("\"filename\""), "{download}: {}", body.get());
    }
    let got = alerts(&dir.join("s7comm/gymgit/step7_s300_AuthPassword.pcapng"));
    assert_eq!(of(&got, "s7comm.password.attempt").len(), 1, "the password capture");

    let got = alerts(&dir.join("modbus/quickdraw/modbus_test_data_part1.pcap"));
    for rule in ["modbus.diagnostic.force_listen_only", "modbus.diagnostic.restart_communications", "modbus.diagnostic.clear_counters"] {
        assert!(!of(&got, rule).is_empty(), "Quickdraw Modbus: {rule}");
    }
    let got = alerts(&dir.join("dnp3/quickdraw/dnp3_test_data_part1.pcap"));
    for rule in ["dnp3.restart.cold", "dnp3.restart.warm", "dnp3.application.stop", "dnp3.unsolicited.disable"] {
        assert!(!of(&got, rule).is_empty(), "Quickdraw DNP3: {rule}");
    }
    // The CSET'16 characterization: an attacker reads the RTUs' address space.
    let got = alerts(&dir.join("modbus/cset16-lemay/characterization_modbus_6RTU_with_operate.pcap"));
    assert!(!of(&got, "modbus.exception.burst").is_empty(), "exception burst");
    assert!(!of(&got, "modbus.scan.addresses").is_empty(), "address sweep");
    assert!(got.iter().all(|a| techniques(a).contains(&"T0846")), "reconnaissance");
}

#[test]
fn routine_traffic_raises_nothing_high_or_critical() {
    let Some(dir) = shared::pcaps_dir() else { return };
    for routine in [
        "modbus/plant1/Plant1_ModbusTCP.pcap",
        "s7comm/plant1/Plant1_S7comm.pcap",
        "modbus/icsnpp/modbus_example.pcap",
        "s7comm/gymgit/wincc_s300_setup-alarm-read-write.pcapng",
    ] {
        let got = alerts(&dir.join(routine));
        let loud: Vec<String> = got
            .iter()
            .filter(|a| a.alert.info.severity >= Severity::High)
            .map(|a| format!("{} {}", a.alert.info.rule_id, a.alert.detail))
            .collect();
        assert!(loud.is_empty(), "{routine}: {loud:?}");
    }
}
