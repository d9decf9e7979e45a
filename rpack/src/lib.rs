//! rpack
