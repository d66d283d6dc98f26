//! (Converted to types module by module.)
