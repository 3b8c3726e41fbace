//! MITRE ATT&CK for ICS techniques rules may be tagged with: id, name and tactics, so
//! alerts carry names a SOC searches by and a mistyped id is caught at load.
use otsentry_core::Technique;

const INITIAL: &str = "Initial Access";
const EXECUTION: &str = "Execution";
const PERSISTENCE: &str = "Persistence";
const PRIV: &str = "Privilege Escalation";
const EVASION: &str = "Evasion";
const DISCOVERY: &str = "Discovery";
const LATERAL: &str = "Lateral Movement";
const COLLECTION: &str = "Collection";
const C2: &str = "Command and Control";
const INHIBIT: &str = "Inhibit Response Function";
const IMPAIR: &str = "Impair Process Control";
const IMPACT: &str = "Impact";

const fn t(id: &'static str, name: &'static str, tactics: &'static [&'static str]) -> Technique {
    Technique { id, name, tactics }
}

pub(crate) static TECHNIQUES: &[Technique] = &[
    t("T0800", "Activate Firmware Update Mode", &[INHIBIT]),
    t("T0801", "Monitor Process State", &[COLLECTION]),
    t("T0802", "Automated Collection", &[COLLECTION]),
    t("T0803", "Block Command Message", &[INHIBIT]),
    t("T0804", "Block Reporting Message", &[INHIBIT]),
    t("T0805", "Block Serial COM", &[INHIBIT]),
    t("T0806", "Brute Force I/O", &[IMPAIR]),
    t("T0807", "Command-Line Interface", &[EXECUTION]),
    t("T0809", "Data Destruction", &[INHIBIT]),
    t("T0811", "Data from Information Repositories", &[COLLECTION]),
    t("T0812", "Default Credentials", &[LATERAL]),
    t("T0813", "Denial of Control", &[IMPACT]),
    t("T0814", "Denial of Service", &[INHIBIT]),
    t("T0815", "Denial of View", &[IMPACT]),
    t("T0816", "Device Restart/Shutdown", &[INHIBIT]),
    t("T0817", "Drive-by Compromise", &[INITIAL]),
    t("T0819", "Exploit Public-Facing Application", &[INITIAL]),
    t("T0821", "Modify Controller Tasking", &[EXECUTION]),
    t("T0822", "External Remote Services", &[INITIAL]),
    t("T0823", "Graphical User Interface", &[EXECUTION]),
    t("T0826", "Loss of Availability", &[IMPACT]),
    t("T0827", "Loss of Control", &[IMPACT]),
    t("T0828", "Loss of Productivity and Revenue", &[IMPACT]),
    t("T0829", "Loss of View", &[IMPACT]),
    t("T0830", "Adversary-in-the-Middle", &[COLLECTION]),
    t("T0831", "Manipulation of Control", &[IMPACT]),
    t("T0832", "Manipulation of View", &[IMPACT]),
    t("T0834", "Native API", &[EXECUTION]),
    t("T0835", "Manipulate I/O Image", &[INHIBIT]),
    t("T0836", "Modify Parameter", &[IMPAIR]),
    t("T0837", "Loss of Protection", &[IMPACT]),
    t("T0838", "Modify Alarm Settings", &[INHIBIT]),
    t("T0839", "Module Firmware", &[PERSISTENCE, IMPAIR]),
    t("T0840", "Network Connection Enumeration", &[DISCOVERY]),
    t("T0842", "Network Sniffing", &[DISCOVERY]),
    t("T0843", "Program Download", &[LATERAL]),
    t("T0845", "Program Upload", &[COLLECTION]),
    t("T0846", "Remote System Discovery", &[DISCOVERY]),
    t("T0847", "Replication Through Removable Media", &[INITIAL]),
    t("T0848", "Rogue Master", &[INITIAL]),
    t("T0849", "Masquerading", &[EVASION]),
    t("T0851", "Rootkit", &[EVASION, INHIBIT]),
    t("T0852", "Screen Capture", &[COLLECTION]),
    t("T0853", "Scripting", &[EXECUTION]),
    t("T0855", "Unauthorized Command Message", &[IMPAIR]),
    t("T0856", "Spoof Reporting Message", &[EVASION, IMPAIR]),
    t("T0857", "System Firmware", &[PERSISTENCE, INHIBIT]),
    t("T0858", "Change Operating Mode", &[EXECUTION, EVASION]),
    t("T0859", "Valid Accounts", &[PERSISTENCE, LATERAL]),
    t("T0860", "Wireless Compromise", &[INITIAL]),
    t("T0861", "Point & Tag Identification", &[COLLECTION]),
    t("T0862", "Supply Chain Compromise", &[INITIAL]),
    t("T0863", "User Execution", &[EXECUTION]),
    t("T0864", "Transient Cyber Asset", &[INITIAL]),
    t("T0865", "Spearphishing Attachment", &[INITIAL]),
    t("T0866", "Exploitation of Remote Services", &[INITIAL, LATERAL]),
    t("T0867", "Lateral Tool Transfer", &[LATERAL]),
    t("T0868", "Detect Operating Mode", &[COLLECTION]),
    t("T0869", "Standard Application Layer Protocol", &[C2]),
    t("T0871", "Execution through API", &[EXECUTION]),
    t("T0872", "Indicator Removal on Host", &[EVASION]),
    t("T0873", "Project File Infection", &[PERSISTENCE]),
    t("T0874", "Hooking", &[EXECUTION, PRIV]),
    t("T0877", "I/O Image", &[COLLECTION]),
    t("T0878", "Alarm Suppression", &[INHIBIT]),
    t("T0879", "Damage to Property", &[IMPACT]),
    t("T0880", "Loss of Safety", &[IMPACT]),
    t("T0881", "Service Stop", &[INHIBIT]),
    t("T0882", "Theft of Operational Information", &[IMPACT]),
    t("T0883", "Internet Accessible Device", &[INITIAL]),
    t("T0884", "Connection Proxy", &[C2]),
    t("T0885", "Commonly Used Port", &[C2]),
    t("T0886", "Remote Services", &[INITIAL, LATERAL]),
    t("T0887", "Wireless Sniffing", &[DISCOVERY, COLLECTION]),
    t("T0888", "Remote System Information Discovery", &[DISCOVERY]),
    t("T0889", "Modify Program", &[PERSISTENCE]),
    t("T0890", "Exploitation for Privilege Escalation", &[PRIV]),
    t("T0891", "Hardcoded Credentials", &[LATERAL, PERSISTENCE]),
    t("T0892", "Change Credential", &[INHIBIT]),
    t("T0893", "Data from Local System", &[COLLECTION]),
    t("T0894", "System Binary Proxy Execution", &[EVASION]),
    t("T0895", "Autorun Image", &[EXECUTION]),
];

pub(crate) fn technique(id: &str) -> Option<Technique> {
    TECHNIQUES.iter().find(|t| t.id == id).copied()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut ids: Vec<_> = super::TECHNIQUES.iter().map(|t| t.id).collect();
        assert!(ids.iter().all(|i| i.len() == 5 && i.starts_with("T0")));
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), super::TECHNIQUES.len());
    }
}
