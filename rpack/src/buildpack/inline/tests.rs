//! The conversion of the three scripts the issue names: its own (uv from an install script), the one of
//! examples/inline-uv, and one with steps rpack does not recognise.
