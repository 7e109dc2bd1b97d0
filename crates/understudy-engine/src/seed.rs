//! Seeding: each request's randomness from the engine's seed, the operation and a count.

/// A per-request seed from the engine's seed, the operation and how many requests it has answered
/// (FNV-1a over the names, then SplitMix64), stable across runs and Rust versions.
pub(crate) fn mix(seed: u64, pointer: &str, spec: &str, served: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in spec.bytes().chain([0]).chain(pointer.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = seed ^ hash ^ served.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ_per_request_and_operation() {
        assert_ne!(mix(1, "/paths/a", "s", 0), mix(1, "/paths/a", "s", 1));
        assert_ne!(mix(1, "/paths/a", "s", 0), mix(1, "/paths/b", "s", 0));
        assert_eq!(mix(7, "/paths/a", "s", 3), mix(7, "/paths/a", "s", 3));
    }
}
