//! libbuildpack
