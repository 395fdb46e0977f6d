//! ACPI tables (stub until the SMP work lands).
