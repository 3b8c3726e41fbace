//! Function codes, their names and classes, kept open: every raw code is preserved.

/// A Modbus function code (exception bit cleared), with the raw byte kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Function(pub u8);

/// Where a function code sits in the specification's code space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// Publicly documented by the specification (or well-known vendor use, such as 90).
    Public,
    /// 65–72 and 100–110: left to users.
    UserDefined,
    /// Everything else.
    Reserved,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Public => "public",
            Category::UserDefined => "user_defined",
            Category::Reserved => "reserved",
        }
    }
}

/// What a function does to the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    ReadWrite,
    Diagnostic,
    /// Program or configuration transfer and run control (UMAS, file records).
    Program,
    Identification,
    Unknown,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::ReadWrite => "read_write",
            Access::Diagnostic => "diagnostic",
            Access::Program => "program",
            Access::Identification => "identification",
            Access::Unknown => "unknown",
        }
    }
}

/// The data table a function addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataType {
    Coils,
    DiscreteInputs,
    HoldingRegisters,
    InputRegisters,
    FileRecords,
}

impl DataType {
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Coils => "coils",
            DataType::DiscreteInputs => "discrete_inputs",
            DataType::HoldingRegisters => "holding_registers",
            DataType::InputRegisters => "input_registers",
            DataType::FileRecords => "file_records",
        }
    }
}

impl Function {
    pub const READ_COILS: Function = Function(1);
    pub const READ_DISCRETE_INPUTS: Function = Function(2);
    pub const READ_HOLDING_REGISTERS: Function = Function(3);
    pub const READ_INPUT_REGISTERS: Function = Function(4);
    pub const WRITE_SINGLE_COIL: Function = Function(5);
    pub const WRITE_SINGLE_REGISTER: Function = Function(6);
    pub const READ_EXCEPTION_STATUS: Function = Function(7);
    pub const DIAGNOSTICS: Function = Function(8);
    pub const GET_COMM_EVENT_COUNTER: Function = Function(11);
    pub const GET_COMM_EVENT_LOG: Function = Function(12);
    pub const WRITE_MULTIPLE_COILS: Function = Function(15);
    pub const WRITE_MULTIPLE_REGISTERS: Function = Function(16);
    pub const REPORT_SERVER_ID: Function = Function(17);
    pub const READ_FILE_RECORD: Function = Function(20);
    pub const WRITE_FILE_RECORD: Function = Function(21);
    pub const MASK_WRITE_REGISTER: Function = Function(22);
    pub const READ_WRITE_MULTIPLE_REGISTERS: Function = Function(23);
    pub const READ_FIFO_QUEUE: Function = Function(24);
    pub const ENCAPSULATED_INTERFACE: Function = Function(43);
    pub const UMAS: Function = Function(90);

    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "read_coils",
            2 => "read_discrete_inputs",
            3 => "read_holding_registers",
            4 => "read_input_registers",
            5 => "write_single_coil",
            6 => "write_single_register",
            7 => "read_exception_status",
            8 => "diagnostics",
            11 => "get_comm_event_counter",
            12 => "get_comm_event_log",
            15 => "write_multiple_coils",
            16 => "write_multiple_registers",
            17 => "report_server_id",
            20 => "read_file_record",
            21 => "write_file_record",
            22 => "mask_write_register",
            23 => "read_write_multiple_registers",
            24 => "read_fifo_queue",
            43 => "encapsulated_interface_transport",
            90 => "umas",
            65..=72 | 100..=110 => "user_defined",
            _ => "reserved",
        }
    }

    pub fn category(self) -> Category {
        match self.0 {
            1..=8 | 11 | 12 | 15..=17 | 20..=24 | 43 | 90 => Category::Public,
            65..=72 | 100..=110 => Category::UserDefined,
            _ => Category::Reserved,
        }
    }

    pub fn access(self) -> Access {
        match self.0 {
            1..=4 | 7 | 11 | 12 | 20 | 24 => Access::Read,
            5 | 6 | 15 | 16 | 21 | 22 => Access::Write,
            23 => Access::ReadWrite,
            8 => Access::Diagnostic,
            17 | 43 => Access::Identification,
            90 => Access::Program,
            _ => Access::Unknown,
        }
    }

    pub fn data_type(self) -> Option<DataType> {
        Some(match self.0 {
            1 | 5 | 15 => DataType::Coils,
            2 => DataType::DiscreteInputs,
            3 | 6 | 16 | 22 | 23 | 24 => DataType::HoldingRegisters,
            4 => DataType::InputRegisters,
            20 | 21 => DataType::FileRecords,
            _ => return None,
        })
    }
}

/// Name of a diagnostics (function 8) sub-function, 0x00–0x14.
pub fn diagnostic_name(sub: u16) -> &'static str {
    match sub {
        0x00 => "return_query_data",
        0x01 => "restart_communications_option",
        0x02 => "return_diagnostic_register",
        0x03 => "change_ascii_input_delimiter",
        0x04 => "force_listen_only_mode",
        0x0A => "clear_counters_and_diagnostic_register",
        0x0B => "return_bus_message_count",
        0x0C => "return_bus_communication_error_count",
        0x0D => "return_bus_exception_error_count",
        0x0E => "return_server_message_count",
        0x0F => "return_server_no_response_count",
        0x10 => "return_server_nak_count",
        0x11 => "return_server_busy_count",
        0x12 => "return_bus_character_overrun_count",
        0x13 => "return_iop_overrun_count",
        0x14 => "clear_overrun_counter_and_flag",
        _ => "reserved",
    }
}

/// Name of an exception code; `None` for codes the specification does not define.
pub fn exception_name(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "illegal_function",
        2 => "illegal_data_address",
        3 => "illegal_data_value",
        4 => "server_device_failure",
        5 => "acknowledge",
        6 => "server_device_busy",
        7 => "negative_acknowledge",
        8 => "memory_parity_error",
        0x0A => "gateway_path_unavailable",
        0x0B => "gateway_target_failed_to_respond",
        _ => return None,
    })
}

/// Name of a read-device-identification object id (function 43, MEI 14).
pub fn device_object_name(id: u8) -> &'static str {
    match id {
        0x00 => "VendorName",
        0x01 => "ProductCode",
        0x02 => "MajorMinorRevision",
        0x03 => "VendorUrl",
        0x04 => "ProductName",
        0x05 => "ModelName",
        0x06 => "UserApplicationName",
        0x07..=0x7F => "reserved",
        _ => "private",
    }
}

/// Name of a Schneider UMAS function (function 90), from public analyses of the
/// protocol. UMAS calls a PC → PLC program transfer an "upload" (0x30–0x32, i.e. a
/// program download to the PLC) and PLC → PC a "download" (0x33–0x35).
/// Schneider names the program transfers from the PLC's side: an "upload" goes from
/// the engineering station to the PLC (0x30-0x32), a "download" from the PLC to the
/// station (0x33-0x35), the reverse of most engineering tools' words (Liras, "The Unity
/// (UMAS) protocol", part III, 2017: "a program upload (computer --> PLC) ... 01 30").
/// The names keep Schneider's word and say the direction, so neither reads as the other.
pub fn umas_name(code: u8) -> &'static str {
    match code {
        0x01 => "init_comm",
        0x02 => "read_id",
        0x03 => "read_project_info",
        0x04 => "read_plc_info",
        0x06 => "read_card_info",
        0x0A => "repeat",
        0x10 => "take_plc_reservation",
        0x11 => "release_plc_reservation",
        0x12 => "keep_alive",
        0x20 => "read_memory_block",
        0x22 => "read_variables",
        0x23 => "write_variables",
        0x24 => "read_coils_registers",
        0x25 => "write_coils_registers",
        0x26 => "enable_disable_data_dictionary",
        0x30 => "initialize_upload_to_plc",
        0x31 => "upload_block_to_plc",
        0x32 => "end_upload_to_plc",
        0x33 => "initialize_download_from_plc",
        0x34 => "download_block_from_plc",
        0x35 => "end_download_from_plc",
        0x39 => "read_eth_master_data",
        0x40 => "start_plc",
        0x41 => "stop_plc",
        0x50 => "monitor_plc",
        0x58 => "check_plc",
        0x70 => "read_io_object",
        0x71 => "write_io_object",
        0x73 => "get_status_module",
        0xFD => "error_response",
        0xFE => "ok_response",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_class_and_keeps_its_raw_value() {
        for raw in 0..=0x7Fu8 {
            let f = Function(raw);
            let cat = f.category();
            assert_eq!(f.name() == "reserved", cat == Category::Reserved, "code {raw}");
            assert_eq!(f.name() == "user_defined", cat == Category::UserDefined, "code {raw}");
        }
        assert_eq!(Function(16).data_type(), Some(DataType::HoldingRegisters));
        assert_eq!(Function(90).access(), Access::Program);
        assert_eq!(diagnostic_name(4), "force_listen_only_mode");
        assert_eq!(exception_name(9), None);
        assert_eq!(umas_name(0x41), "stop_plc");
        assert_eq!(device_object_name(0x80), "private");
    }
}
