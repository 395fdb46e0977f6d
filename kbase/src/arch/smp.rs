//! Application-processor start-up (stub until the SMP work lands).
