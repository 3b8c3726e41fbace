"""Live protocol peers written by others (pymodbus, python-snap7, dnp3py), for the
sensor's tests: `peers.py ROLE HOST` runs one server until killed, or one client's
session and exits 0 once its requests were sent.

Roles: modbus-server, modbus-client, modbus-poll [SECONDS], s7-server, s7-client, dnp3-outstation, dnp3-master.
"""
import asyncio
import sys
import time


def modbus_server(host):
    from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
    from pymodbus.server import StartTcpServer

    block = ModbusSequentialDataBlock(1, [7] * 100)
    device = ModbusDeviceContext(hr=block, ir=block, co=block, di=block)
    StartTcpServer(context=ModbusServerContext(devices=device, single=True), address=(host, 502))


def modbus_client(host):
    from pymodbus.client import ModbusTcpClient

    client = ModbusTcpClient(host, port=502, timeout=2)
    assert client.connect(), "no Modbus server"
    client.read_holding_registers(0, count=4)
    client.write_register(1, 42)
    # Diagnostics: restart communications (sub-function 1), a denial of service.
    try:
        client.diag_restart_communication(False)
    except Exception as e:  # the server may not answer it
        print("restart communications:", e)
    client.close()


def modbus_poll(host):
    """An HMI's routine: holding registers read five times a second for six seconds."""
    from pymodbus.client import ModbusTcpClient

    client = ModbusTcpClient(host, port=502, timeout=2)
    assert client.connect(), "no Modbus server"
    end = time.monotonic() + float(sys.argv[3] if len(sys.argv) > 3 else 6)
    while time.monotonic() < end:
        client.read_holding_registers(0, count=4)
        time.sleep(0.2)
    client.close()


def s7_server(host):
    import snap7

    server = snap7.server.Server(log=False)
    server.start_to(host, 102)
    while True:
        time.sleep(1)


def s7_client(host):
    import snap7

    client = snap7.client.Client()
    client.connect(host, 0, 1)
    client.get_cpu_state()
    client.plc_stop()
    client.disconnect()


def dnp3_outstation(host):
    from dnp3.database import AnalogInputConfig, BinaryInputConfig, Database
    from dnp3.outstation import Outstation, OutstationConfig, OutstationTcpRunner

    database = Database()
    database.add_binary_input(0, BinaryInputConfig())
    database.add_analog_input(0, AnalogInputConfig())
    database.update_analog_input(0, value=42)
    outstation = Outstation(database=database, config=OutstationConfig(address=1))
    asyncio.run(OutstationTcpRunner(outstation=outstation, host=host, port=20000).run())


def dnp3_master(host):
    from dnp3.application.builder import build_cold_restart_request
    from dnp3.master import DefaultSOEHandler, Master, MasterConfig, MasterTcpRunner

    async def session():
        master = Master(handler=DefaultSOEHandler(), config=MasterConfig(address=2, outstation_address=1))
        async with MasterTcpRunner(master=master, host=host, port=20000) as runner:
            await runner.integrity_poll()
            try:
                await runner.request(build_cold_restart_request(seq=master.next_request_sequence()))
            except Exception as e:  # the outstation may not answer a restart
                print("cold restart:", e)

    asyncio.run(session())


ROLES = {
    "modbus-server": modbus_server,
    "modbus-client": modbus_client,
    "s7-server": s7_server,
    "s7-client": s7_client,
    "dnp3-outstation": dnp3_outstation,
    "dnp3-master": dnp3_master,
    "modbus-poll": modbus_poll,
}

if __name__ == "__main__":
    ROLES[sys.argv[1]](sys.argv[2])
