pub fn claimer(_q: &str, _arg: &str) {}
