//! The memory one argon2 computation works in, allocated once and reused for every hash and
//! verification a hashing thread does. Letting the `argon2` crate allocate ~19 MiB per call
//! made glibc keep every one of them (RSS grew to 1.5 GB in a sign-in storm); here the memory
//! of a thread is bounded by design, and handed back to the kernel when the thread is idle.

use argon2::password_hash::{Output, ParamsString, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use subtle::ConstantTimeEq;

/// Longest salt and hash a PHC string may carry (password-hash's own limits).
const MAX_SALT_BYTES: usize = 64;
const MAX_OUTPUT_BYTES: usize = Output::MAX_LENGTH;
const OUTPUT_BYTES: usize = 32;

/// argon2id with OWASP's parameters: m=19456 KiB, t=2, p=1.
pub fn owasp_params() -> Params {
    Params::new(19_456, 2, 1, Some(OUTPUT_BYTES)).unwrap_or_default()
}

pub struct Workspace {
    params: Params,
    /// Sized for `params`, allocated on first use and then kept.
    blocks: Vec<Block>,
    /// True while the blocks' pages may be resident (used since the last release).
    resident: bool,
    /// Block allocations so far, the reused one included: stays 1 while every hash uses
    /// `params` or smaller.
    allocations: usize,
}

impl Workspace {
    pub fn new(params: Params) -> Self {
        Self {
            params,
            blocks: Vec::new(),
            resident: false,
            allocations: 0,
        }
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) of `password` with a fresh
    /// random salt, computed in this workspace's memory.
    pub fn hash(&mut self, password: &[u8]) -> Result<String, argon2::password_hash::Error> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let mut salt_buf = [0u8; MAX_SALT_BYTES];
        let salt_bytes = salt.decode_b64(&mut salt_buf)?;
        let params = self.params.clone();
        let mut out = [0u8; OUTPUT_BYTES];
        self.compute(
            Algorithm::Argon2id,
            Version::V0x13,
            &params,
            password,
            salt_bytes,
            &mut out,
        )?;
        let phc = PasswordHash {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out)?),
        };
        Ok(phc.to_string())
    }

    /// True only when `stored` is a well-formed argon2 PHC string and `password` hashes to it
    /// under the string's own algorithm, version, parameters and salt.
    pub fn verify(&mut self, stored: &str, password: &[u8]) -> bool {
        self.try_verify(stored, password).unwrap_or(false)
    }

    fn try_verify(
        &mut self,
        stored: &str,
        password: &[u8],
    ) -> Result<bool, argon2::password_hash::Error> {
        let parsed = PasswordHash::new(stored)?;
        let algorithm = Algorithm::try_from(parsed.algorithm)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let params = Params::try_from(&parsed)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Ok(false);
        };
        let mut salt_buf = [0u8; MAX_SALT_BYTES];
        let salt_bytes = salt.decode_b64(&mut salt_buf)?;
        let mut out_buf = [0u8; MAX_OUTPUT_BYTES];
        let Some(out) = out_buf.get_mut(..expected.len()) else {
            return Ok(false);
        };
        self.compute(algorithm, version, &params, password, salt_bytes, out)?;
        Ok(bool::from(out.ct_eq(expected.as_bytes())))
    }

    /// Runs argon2 in the reused blocks; a hash stored with a larger memory cost than this
    /// workspace's gets memory of its own for that one computation.
    fn compute(
        &mut self,
        algorithm: Algorithm,
        version: Version,
        params: &Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), argon2::Error> {
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let needed = params.block_count();
        if needed > self.params.block_count() {
            self.allocations += 1;
            let mut own = vec![Block::default(); needed];
            return argon2.hash_password_into_with_memory(password, salt, out, own.as_mut_slice());
        }
        if self.blocks.is_empty() {
            self.allocations += 1;
            self.blocks = vec![Block::default(); self.params.block_count()];
        }
        self.resident = true;
        argon2.hash_password_into_with_memory(password, salt, out, self.blocks.as_mut_slice())
    }

    /// True when the blocks were used since they were last handed back to the kernel.
    pub fn is_resident(&self) -> bool {
        self.resident
    }

    /// Hands the blocks' physical pages back to the kernel, keeping the allocation: RSS falls
    /// back to idle, and the next computation faults in zeroed pages (argon2 writes every
    /// block before it reads it, so their content does not matter).
    pub fn release(&mut self) {
        self.resident = false;
        let len = std::mem::size_of_val(self.blocks.as_slice());
        let start = self.blocks.as_mut_ptr() as usize;
        let page = page_size();
        let first = start.div_ceil(page) * page;
        let end = (start + len) / page * page;
        if self.blocks.is_empty() || end <= first {
            return;
        }
        // SAFETY: [first, end) lies inside the allocation this workspace owns exclusively
        // (`&mut self`), in private anonymous memory; MADV_DONTNEED makes those pages read
        // as zeros afterwards, and an all-zero `Block` is a valid value.
        let rc =
            unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_DONTNEED) };
        if rc != 0 {
            tracing::debug!(
                error = %std::io::Error::last_os_error(),
                "madvise on argon2 memory failed"
            );
        }
    }

    #[cfg(test)]
    pub fn allocations(&self) -> usize {
        self.allocations
    }

    /// Where the reused blocks live (null before the first computation).
    #[cfg(test)]
    pub fn memory_address(&self) -> usize {
        if self.blocks.is_empty() {
            0
        } else {
            self.blocks.as_ptr() as usize
        }
    }

    #[cfg(test)]
    pub fn memory_range(&self) -> (usize, usize) {
        (
            self.blocks.as_ptr() as usize,
            std::mem::size_of_val(self.blocks.as_slice()),
        )
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf only reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|s| *s > 0)
        .unwrap_or(4096)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher;

    /// Small parameters keep the tests fast; the logic is the same for OWASP's.
    fn small() -> Params {
        Params::new(1024, 1, 1, Some(32)).unwrap()
    }

    #[test]
    fn hash_is_a_standard_phc_string_and_verifies() {
        let mut ws = Workspace::new(owasp_params());
        let hash = ws.hash(b"correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(ws.verify(&hash, b"correct horse battery"));
        assert!(!ws.verify(&hash, b"correct horse batterz"));
        // The argon2 crate's own verifier agrees: hashes stay portable.
        use argon2::PasswordVerifier;
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
    }

    #[test]
    fn hashes_made_elsewhere_with_other_parameters_verify() {
        let mut ws = Workspace::new(small());
        for (m, t, p) in [(512, 3, 1), (1024, 1, 1), (4096, 2, 2)] {
            for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i, Algorithm::Argon2d] {
                let argon2 = Argon2::new(
                    algorithm,
                    Version::V0x13,
                    Params::new(m, t, p, None).unwrap(),
                );
                let salt = SaltString::generate(&mut rand::rngs::OsRng);
                let hash = argon2.hash_password(b"pw", &salt).unwrap().to_string();
                assert!(ws.verify(&hash, b"pw"), "{hash}");
                assert!(!ws.verify(&hash, b"pW"), "{hash}");
            }
        }
        // Only the larger memory cost (4096 > 1024) needed memory of its own: one allocation
        // for each of its six verifications, besides the reused one.
        assert_eq!(ws.allocations(), 1 + 6);
    }

    #[test]
    fn version_0x10_hashes_verify() {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x10, small());
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let hash = argon2.hash_password(b"old", &salt).unwrap().to_string();
        assert!(hash.contains("$v=16$"), "{hash}");
        let mut ws = Workspace::new(small());
        assert!(ws.verify(&hash, b"old"));
        assert!(!ws.verify(&hash, b"new"));
    }

    #[test]
    fn malformed_or_foreign_hashes_never_verify() {
        let mut ws = Workspace::new(small());
        for stored in [
            "",
            "not a hash",
            "$2b$12$abcdefghijklmnopqrstuuJ0bDz0KX6Zf3C6d9Cz1v9P1wS0lH8tK",
            "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA",
            "$scrypt$ln=15,r=8,p=1$c29tZXNhbHQ$aGFzaA",
        ] {
            assert!(!ws.verify(stored, b""), "{stored:?}");
        }
    }

    #[test]
    fn every_computation_reuses_one_allocation() {
        let mut ws = Workspace::new(small());
        assert_eq!(ws.memory_address(), 0, "nothing allocated before use");
        let hash = ws.hash(b"one").unwrap();
        let address = ws.memory_address();
        for _ in 0..5 {
            let again = ws.hash(b"two").unwrap();
            assert!(ws.verify(&hash, b"one"));
            assert!(ws.verify(&again, b"two"));
        }
        assert_eq!(ws.memory_address(), address);
        assert_eq!(ws.allocations(), 1);
    }

    /// Pages of `range` that are in physical memory.
    fn resident_pages((start, len): (usize, usize)) -> usize {
        let page = page_size();
        let first = start.div_ceil(page) * page;
        let end = (start + len) / page * page;
        let mut vec = vec![0u8; (end - first) / page];
        // SAFETY: the range lies inside a live allocation; `vec` has one byte per page.
        let rc =
            unsafe { libc::mincore(first as *mut libc::c_void, end - first, vec.as_mut_ptr()) };
        assert_eq!(rc, 0, "mincore: {}", std::io::Error::last_os_error());
        vec.iter().filter(|b| *b & 1 == 1).count()
    }

    #[test]
    fn release_returns_the_pages_and_the_memory_still_works() {
        let mut ws = Workspace::new(owasp_params());
        let hash = ws.hash(b"pw").unwrap();
        assert!(ws.is_resident());
        let before = resident_pages(ws.memory_range());
        assert!(before > 4000, "19 MiB in use: {before} pages");
        ws.release();
        assert!(!ws.is_resident());
        let after = resident_pages(ws.memory_range());
        assert!(after < 4, "pages still resident after release: {after}");
        assert!(ws.verify(&hash, b"pw"));
        assert!(!ws.verify(&hash, b"px"));
        assert_eq!(ws.allocations(), 1);
    }
}
