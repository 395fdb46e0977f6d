//! COM1 (16550 UART at I/O port 0x3f8): the kernel console.

use super::cpu::{inb, outb};

const COM1: u16 = 0x3f8;

pub(crate) fn init() {
    outb(COM1 + 1, 0x00); // no interrupts (for now)
    outb(COM1 + 3, 0x80); // DLAB
    outb(COM1, 0x01); // 115200 baud
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); // 8N1
    outb(COM1 + 2, 0xc7); // FIFO on, cleared, 14-byte threshold
    outb(COM1 + 4, 0x0b); // DTR, RTS, OUT2
}

/// Writes raw bytes, translating `\n` to `\r\n`. Callers serialise through
/// `console::write`.
pub(crate) fn write_bytes(bytes: &[u8]) {
    for &b in bytes {
        if b == b'\n' {
            put(b'\r');
        }
        put(b);
    }
}

/// Writes bytes untranslated. Callers serialise through `console`.
pub(crate) fn write_raw(bytes: &[u8]) {
    bytes.iter().for_each(|&b| put(b));
}

fn put(b: u8) {
    // Wait for the transmit holding register to empty (LSR bit 5).
    let mut spins = 0u32;
    while inb(COM1 + 5) & 0x20 == 0 && spins < 100_000 {
        spins += 1;
        core::hint::spin_loop();
    }
    outb(COM1, b);
}

/// Returns a received byte, if one is waiting.
pub fn try_read() -> Option<u8> {
    if inb(COM1 + 5) & 1 != 0 { Some(inb(COM1)) } else { None }
}

/// Whether a received byte is waiting (LSR data-ready), without taking it.
pub fn has_input() -> bool {
    inb(COM1 + 5) & 1 != 0
}

/// Called from the COM1 interrupt with the bytes that arrived.
pub type RxHook = fn(&[u8]);

static RX_HOOK: crate::sync::Once<RxHook> = crate::sync::Once::new();

/// Turns on receive interrupts: COM1 (ISA IRQ 4) through the I/O APIC to
/// the boot CPU; `hook` gets the received bytes in interrupt context (it
/// must not sleep). Returns false if the interrupt could not be routed.
pub fn enable_rx_interrupts(hook: RxHook) -> bool {
    if !RX_HOOK.set(hook) {
        return false;
    }
    let vector = super::apic::VECTOR_ISA_BASE + super::ioapic::ISA_IRQ_COM1;
    if !super::trap::register_irq(vector, on_rx_irq) {
        return false;
    }
    let gsi = super::ioapic::isa_gsi(super::ioapic::ISA_IRQ_COM1);
    if !super::ioapic::ioapic_mask(gsi, false) {
        return false;
    }
    outb(COM1 + 1, 0x01); // IER: received-data-available interrupt
    true
}

fn on_rx_irq(_f: &mut super::trap::TrapFrame) {
    let mut buf = [0u8; 64];
    let mut n = 0;
    while n < buf.len() {
        match try_read() {
            Some(b) => {
                buf[n] = b;
                n += 1;
            }
            None => break,
        }
    }
    if let (Some(h), true) = (RX_HOOK.get(), n > 0) {
        h(&buf[..n]);
    }
}
