//! Kernel threads and the scheduler (stub).

use crate::BootInfo;
use crate::arch::trap::TrapFrame;

pub(crate) fn preempt_point_from_irq(_frame: &mut TrapFrame) {}

pub(crate) fn init() {}

pub(crate) fn run_main(main: fn(&'static BootInfo) -> !, info: &'static BootInfo) -> ! {
    main(info)
}
