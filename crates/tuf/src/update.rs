//! The checks a Notary server makes on a published update (`server/handlers/validation.go`),
//! built from the same rules as the client workflow in [`crate::client`], so that what a
//! server accepts is what a client will verify.
//!
//! The server trusts a repository's first root on first use, as Notary does: the root must be
//! signed by a threshold of its own root keys, certificates naming the GUN and valid now. A
//! later root must also be signed by a threshold of the stored root's keys (TUF 1.0 §5.3.4).

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::client::{RootPin, TrustedState, Verifier, check_role_signatures};
use crate::error::Error;
use crate::gun::Gun;
use crate::keys::PublicKey;
use crate::root::{RoleKeys, Root};
use crate::signed::{Metadata, Signed};

/// The server's view of one repository for the checks below.
#[derive(Debug, Clone, Copy)]
pub struct UpdateCheck<'a> {
    /// The repository.
    pub gun: &'a Gun,
    /// The time to check expiry and certificate validity against.
    pub now: OffsetDateTime,
}

impl UpdateCheck<'_> {
    fn verifier<'v>(&'v self, pin: &'v RootPin, trusted: &'v TrustedState) -> Verifier<'v> {
        Verifier {
            gun: self.gun,
            pin,
            trusted,
            now: self.now,
        }
    }

    /// A root offered for the repository: signed by a threshold of its own usable root keys
    /// and, when `previous` is stored, by a threshold of the previous root's keys; unexpired.
    pub fn check_root(
        &self,
        previous: Option<&Signed<Root>>,
        root: &Signed<Root>,
    ) -> Result<(), Error> {
        let (pin, trusted) = (RootPin::TrustOnFirstUse, TrustedState::default());
        let verifier = self.verifier(&pin, &trusted);
        match previous {
            // §5.3.4: rotation needs the old keys as well as the new.
            Some(previous) => verifier.check_rotation(previous, root)?,
            None => verifier.check_root_self(root)?,
        };
        // §5.3.10, freeze: an expired root would be refused by every client.
        verifier.check_unexpired(root)
    }

    /// A file signed by a threshold of `role`'s keys out of `keys`, and unexpired.
    pub fn check_role<T: Metadata>(
        &self,
        file: &Signed<T>,
        role: &RoleKeys,
        keys: &BTreeMap<String, PublicKey>,
    ) -> Result<(), Error> {
        check_role_signatures(file, role, keys)?;
        let (pin, trusted) = (RootPin::TrustOnFirstUse, TrustedState::default());
        self.verifier(&pin, &trusted).check_unexpired(file)
    }
}
