//! Names for S7comm and S7comm-plus codes. Every lookup is total: a code without a name
//! is reported by its number, never dropped.

pub fn rosctr_name(rosctr: u8) -> &'static str {
    match rosctr {
        1 => "job",
        2 => "ack",
        3 => "ack_data",
        7 => "userdata",
        _ => "unknown",
    }
}

pub fn function_name(function: u8) -> &'static str {
    match function {
        0x00 => "cpu_services",
        0x04 => "read_var",
        0x05 => "write_var",
        0x1A => "request_download",
        0x1B => "download_block",
        0x1C => "download_ended",
        0x1D => "start_upload",
        0x1E => "upload",
        0x1F => "end_upload",
        0x28 => "pi_service",
        0x29 => "plc_stop",
        0xF0 => "setup_communication",
        _ => "unknown",
    }
}

/// Error classes of ack and ack-data headers.
pub fn error_class_name(class: u8) -> &'static str {
    match class {
        0x00 => "no_error",
        0x81 => "application_relationship",
        0x82 => "object_definition",
        0x83 => "no_resources_available",
        0x84 => "service_processing",
        0x85 => "supplies",
        0x87 => "access",
        _ => "unknown",
    }
}

/// Return codes of data items.
pub fn return_code_name(code: u8) -> &'static str {
    match code {
        0x00 => "reserved",
        0x01 => "hardware_fault",
        0x03 => "accessing_object_not_allowed",
        0x05 => "invalid_address",
        0x06 => "data_type_not_supported",
        0x07 => "data_type_inconsistent",
        0x0A => "object_does_not_exist",
        0xFF => "success",
        _ => "unknown",
    }
}

/// Memory areas of S7ANY addresses.
pub fn area_name(area: u8) -> &'static str {
    match area {
        0x03 => "system_info",
        0x05 => "system_flags",
        0x06 => "analog_inputs",
        0x07 => "analog_outputs",
        0x1C => "counters_s7",
        0x1D => "timers_s7",
        0x1E => "counters_iec",
        0x1F => "timers_iec",
        0x80 => "peripheral",
        0x81 => "inputs",
        0x82 => "outputs",
        0x83 => "flags",
        0x84 => "data_blocks",
        0x85 => "instance_data_blocks",
        0x86 => "local_data",
        0x87 => "previous_local_data",
        _ => "unknown",
    }
}

/// Transport sizes of S7ANY item specifications.
pub fn transport_size_name(size: u8) -> &'static str {
    match size {
        0x01 => "bit",
        0x02 => "byte",
        0x03 => "char",
        0x04 => "word",
        0x05 => "int",
        0x06 => "dword",
        0x07 => "dint",
        0x08 => "real",
        0x09 => "date",
        0x0A => "tod",
        0x0B => "time",
        0x0C => "s5time",
        0x0F => "date_and_time",
        0x1C => "counter",
        0x1D => "timer",
        0x1E => "iec_timer",
        0x1F => "iec_counter",
        0x20 => "hs_counter",
        _ => "unknown",
    }
}

/// Syntax ids of variable specifications.
pub fn syntax_name(syntax: u8) -> &'static str {
    match syntax {
        0x10 => "s7any",
        0x13 => "pbc_r_id",
        0x15 => "alarm_lockfree",
        0x16 => "alarm_ind",
        0x19 => "alarm_ack",
        0x1A => "alarm_query_req",
        0x1C => "notify_ind",
        0x82 => "nck",
        0x83 => "nck_metric",
        0x84 => "nck_inch",
        0xA2 => "driveesany",
        0xB0 => "dbread",
        0xB2 => "1200sym",
        _ => "unknown",
    }
}

/// Block types as they appear in file names (two hex characters).
pub fn block_type_name(code: &[u8]) -> &'static str {
    match code {
        b"08" => "OB",
        b"09" => "CMOD",
        b"0A" => "DB",
        b"0B" => "SDB",
        b"0C" => "FC",
        b"0D" => "SFC",
        b"0E" => "FB",
        b"0F" => "SFB",
        _ => "unknown",
    }
}

/// Destination file systems, the last character of a block file name.
pub fn filesystem_name(code: u8) -> &'static str {
    match code {
        b'P' => "passive",
        b'A' => "active",
        b'B' => "active_and_passive",
        _ => "unknown",
    }
}

pub fn userdata_type_name(kind: u8) -> &'static str {
    match kind {
        0x0 => "push",
        0x4 => "request",
        0x8 => "response",
        _ => "unknown",
    }
}

pub fn function_group_name(group: u8) -> &'static str {
    match group {
        0x0 => "mode_transition",
        0x1 => "programmer_commands",
        0x2 => "cyclic_data",
        0x3 => "block_functions",
        0x4 => "cpu_functions",
        0x5 => "security",
        0x6 => "pbc_bsend_brecv",
        0x7 => "time_functions",
        0xF => "nc_programming",
        _ => "unknown",
    }
}

pub fn subfunction_name(group: u8, sub: u8) -> &'static str {
    match (group, sub) {
        (0x0, 0x00) => "stop",
        (0x0, 0x01) => "warm_restart",
        (0x0, 0x02) => "run",
        (0x0, 0x03) => "hot_restart",
        (0x0, 0x04) => "hold",
        (0x0, 0x06) => "cold_restart",
        (0x0, 0x09) => "run_redundant",
        (0x0, 0x0B) => "link_up",
        (0x0, 0x0C) => "update",
        (0x1, 0x01) => "request_diag_data",
        (0x1, 0x02) => "vartab",
        (0x1, 0x0C) => "read_diag_data",
        (0x1, 0x0E) => "remove_diag_data",
        (0x1, 0x0F) => "erase",
        (0x1, 0x10) => "forces",
        (0x1, 0x13) => "request_diag_data_2",
        (0x2, 0x01) => "memory",
        (0x2, 0x04) => "unsubscribe",
        (0x2, 0x05) => "change_driven",
        (0x2, 0x07) => "change_driven_modify",
        (0x2, 0x08) => "rdrec",
        (0x3, 0x01) => "list_blocks",
        (0x3, 0x02) => "list_blocks_of_type",
        (0x3, 0x03) => "get_block_info",
        (0x4, 0x01) => "read_szl",
        (0x4, 0x02) => "message_service",
        (0x4, 0x03) => "diagnostic_message",
        (0x4, 0x05) => "alarm8_indication",
        (0x4, 0x06) => "notify_indication",
        (0x4, 0x07) => "alarm8_lock",
        (0x4, 0x08) => "alarm8_unlock",
        (0x4, 0x09) => "scan_indication",
        (0x4, 0x0B) => "alarm_ack",
        (0x4, 0x0C) => "alarm_ack_indication",
        (0x4, 0x0D) => "alarm_lock_indication",
        (0x4, 0x0E) => "alarm_unlock_indication",
        (0x4, 0x11) => "alarm_sq_indication",
        (0x4, 0x12) => "alarm_s_indication",
        (0x4, 0x13) => "alarm_query",
        (0x4, 0x16) => "notify8_indication",
        (0x5, 0x01) => "plc_password",
        (0x5, 0x02) => "clear_password",
        (0x7, 0x01) => "read_clock",
        (0x7, 0x02) => "set_clock",
        (0x7, 0x03) => "read_clock_following",
        (0x7, 0x04) => "set_clock_2",
        _ => "unknown",
    }
}

/// SZL ids (the partial list number, diagnostic type bits cleared).
pub fn szl_name(id: u16) -> &'static str {
    match id & 0x00FF {
        0x00 => "list_of_szl_ids",
        0x11 => "module_identification",
        0x12 => "cpu_characteristics",
        0x13 => "user_memory_areas",
        0x14 => "system_areas",
        0x15 => "block_types",
        0x19 => "status_of_module_leds",
        0x1C => "component_identification",
        0x22 => "interrupt_status",
        0x25 => "process_image_partitions",
        0x32 => "communication_status",
        0x37 => "ethernet_details",
        0x71 => "h_cpu_group_information",
        0x74 => "status_of_module_leds_2",
        0x91 => "module_status",
        0x92 => "rack_station_status",
        0x94 => "rack_station_status_2",
        0x95 => "extended_dp_master_system_information",
        0x96 => "module_status_profinet",
        0xA0 => "diagnostic_buffer",
        0xB1 => "module_diagnostic_data",
        0xB2 => "module_diagnostic_data_by_address",
        0xB3 => "module_diagnostic_data_by_logical_address",
        0xB4 => "diagnostic_data_dp_slave",
        _ if id & 0x0FFF == 0x0131 => "communication_capability_parameters",
        _ if id & 0x0FFF == 0x0424 => "modes",
        _ => "unknown",
    }
}

/// CPU operating modes (SZL 0x0424, low nibble of the mode byte).
pub fn cpu_mode_name(mode: u8) -> &'static str {
    match mode & 0x0F {
        0x1 => "stop_update",
        0x2 => "stop_memory_reset",
        0x3 => "stop_self_init",
        0x4 => "stop",
        0x5 => "startup_complete_restart",
        0x6 => "startup_cold_restart",
        0x7 => "startup_restart",
        0x8 => "run",
        0xA => "hold",
        0xD => "defect",
        _ => "unknown",
    }
}

/// S7comm-plus opcodes.
pub fn plus_opcode_name(opcode: u8) -> &'static str {
    match opcode {
        0x31 => "request",
        0x32 => "response",
        0x33 => "notification",
        0x02 => "response2",
        _ => "unknown",
    }
}

/// S7comm-plus function codes.
pub fn plus_function_name(function: u16) -> &'static str {
    match function {
        0x04BB => "explore",
        0x04CA => "create_object",
        0x04D4 => "delete_object",
        0x04F2 => "set_variable",
        0x0524 => "get_link",
        0x0542 => "set_multi_variables",
        0x054C => "get_multi_variables",
        0x0556 => "begin_sequence",
        0x0560 => "end_sequence",
        0x056B => "invoke",
        0x0586 => "get_var_substreamed",
        _ => "unknown",
    }
}
