pub fn producer(_q: &str, _arg: &str) {}
pub fn consumer(_q: &str, _arg: &str) {}
