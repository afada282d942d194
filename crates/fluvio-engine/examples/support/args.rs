//! Positional command-line arguments, shared by the examples.

/// The `index`-th command-line argument parsed as `T`, or `default` when it is absent. An
/// argument that does not parse ends the example with a message naming it, rather than
/// running it silently with the default.
pub fn arg<T: std::str::FromStr>(index: usize, default: T) -> T {
    match std::env::args().nth(index) {
        None => default,
        Some(text) => text.parse().unwrap_or_else(|_| {
            eprintln!("error: argument {index} ('{text}') is not a valid {}", std::any::type_name::<T>());
            std::process::exit(2)
        }),
    }
}
