//! The vault (one practice's file) and its sessions (logged-in users).
//!
//! Every operation takes one path, and the types allow no other: the [`gate`] checks the session,
//! gathers cleartext facts, [`decide`](crate::policy::decide)s, audits, and only then unwraps
//! keys and opens fields. The operation modules below it (records, notes, cases, consents,
//! releases, users, keys) only call the gate.

mod accounting;
mod amendment_accept;
mod amendments;
mod audit_log;
mod backup;
mod care;
mod cases;
mod chain;
mod consents;
mod deidentify;
mod disclose;
mod erasure;
mod export;
mod facts;
mod gate;
mod group;
mod guardians;
mod history;
mod lifecycle;
mod notes;
mod package;
mod record_history;
mod records;
mod restrictions;
mod rotation;
mod sealer;
mod tail;
mod users;
mod verify;
mod witness;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::db::Conn;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::audit::{AuditAction, Failure, NewEntry, Outcome};
use crate::crypto::kdf::{KdfLimits, KdfParams, derive_kek};
use crate::crypto::keys::MasterKey;
use crate::crypto::signing::SigningKey;
use crate::db::rows::UserStatus;
use crate::db::{self, Durability, rows};
use crate::error::{Error, Result};
use crate::ids::{UserId, VaultId};
use crate::model::Role;
use group::{Db, GroupCommit};

pub use amendments::{
    AMENDMENT_DUE_MS, AMENDMENT_EXTENSION_MS, Amendment, AmendmentDecision, AmendmentSummary,
    Denial, DenialBasis, NewAmendment,
};
pub use audit_log::{audit_log_len, read_audit_log, staff_user_id};
pub use backup::{BackupSummary, RestoreOptions};
pub use care::MAX_BREAK_GLASS_MINUTES;
pub use cases::JointRecord;
pub use consents::{ConsentRecipient, ConsentSummary, NewConsent};
pub use export::{Export, Withheld};
pub use gate::{KeyStats, Session};
pub use guardians::{GuardianSummary, NewGuardian};
pub use history::{EntryStatus, EntryVersion, Signature};
pub use lifecycle::{NarrowedConsent, SignedByUpgrade};
pub use notes::Note;
pub use records::{NewClient, Record, RecordSummary};
pub use restrictions::{NewRestriction, RestrictionSummary};
pub use rotation::{MasterKeyRotation, Rotation};
pub use sealer::{DEFAULT_SEAL_WITHIN, MAX_SEAL_WITHIN};
pub use users::MIN_PASSPHRASE_CHARS;
pub use verify::{
    VerifiedState, VerifyOptions, audit_canonical_bytes, audit_hash, export_anchor, vault_id_of,
    verify_audit_log, verify_audit_log_observed, verify_audit_log_with,
};
pub use witness::{WitnessConfig, WitnessMode};

/// A passphrase. Wiped from memory on drop; never printed.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wrap a passphrase typed by a user.
    pub fn new(s: impl Into<String>) -> Self {
        Self(Zeroizing::new(s.into()))
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase([redacted])")
    }
}

/// How long a session may sit unused before it locks itself (HIPAA's automatic logoff).
pub const DEFAULT_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Values sealed under one data key before the vault starts a new version of it: 2^30, a
/// quarter of the 2^32 that AES-GCM with random 96-bit nonces allows (NIST SP 800-38D, 8.3).
pub const MAX_SEALS_PER_KEY: u64 = 1 << 30;

/// How a vault is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultConfig {
    /// Argon2id cost for passphrases set through this handle (stored per user).
    pub kdf: KdfParams,
    /// The most Argon2id work a user row of the file may ask a login for, checked before any
    /// derivation (a file is data an attacker may have written). Raised where needed to accept
    /// `kdf`, the costs this configuration itself sets. Default: [`KdfLimits::default`].
    pub kdf_limits: KdfLimits,
    /// Durability of every commit.
    pub durability: Durability,
    /// Sign a checkpoint of the audit log every this many entries (and on close).
    pub checkpoint_every: u32,
    /// While the audit key is loaded (from the first login), no entry waits longer than this
    /// for a signed checkpoint that covers it; at most [`MAX_SEAL_WITHIN`]. Default
    /// [`DEFAULT_SEAL_WITHIN`], five seconds. A crash leaves at most this much of the log
    /// unsealed.
    pub seal_within: std::time::Duration,
    /// A session unused for longer than this is locked: its keys are wiped and its next call
    /// fails with [`Error::SessionLocked`] (automatic logoff). Default 15 minutes.
    pub idle_timeout: std::time::Duration,
    /// The largest the vault file may grow, in bytes (`None`: as large as the disk allows). A
    /// write past it fails with [`Error::DiskFull`], exactly as on a full disk: a quota for a
    /// shared machine, and how the tests make a disk full.
    pub max_size_bytes: Option<u64>,
    /// Values one data key may seal before new ones go under a new key version: at most
    /// [`MAX_SEALS_PER_KEY`] (a lower limit is for tests).
    pub seals_per_key: u64,
    /// Years a client's record is kept after the last activity before it may be erased.
    /// Six by default (45 CFR 164.316(b)(2) and 164.528 keep their documentation six years;
    /// state law for medical records is often longer: set it to the practice's rule).
    pub retention_years: u32,
    /// Where the time comes from: the system's clocks, or (with the `test-clock` feature) a
    /// test's `TestClock`.
    pub clock: crate::clock::Clock,
    /// A second file every signed checkpoint is appended to, kept elsewhere; none by default.
    /// See [`VaultConfig::with_witness`].
    pub witness: Option<WitnessConfig>,
}

impl Default for VaultConfig {
    fn default() -> Self {
        Self {
            kdf: KdfParams::default(),
            kdf_limits: KdfLimits::default(),
            durability: Durability::default(),
            checkpoint_every: 1000,
            seal_within: DEFAULT_SEAL_WITHIN,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            seals_per_key: MAX_SEALS_PER_KEY,
            max_size_bytes: None,
            retention_years: 6,
            clock: crate::clock::Clock::System,
            witness: None,
        }
    }
}

impl VaultConfig {
    /// This configuration with another retention period (years after the last activity).
    pub fn with_retention_years(mut self, years: u32) -> Self {
        self.retention_years = years;
        self
    }

    /// This configuration with other KDF costs (tests and benchmarks use cheap ones).
    pub fn with_kdf(mut self, kdf: KdfParams) -> Self {
        self.kdf = kdf;
        self
    }

    /// This configuration with other limits on the Argon2id costs a vault file may ask for
    /// (an app whose users' costs are above [`KdfLimits::default`] raises them; costs set with
    /// [`VaultConfig::with_kdf`] are accepted whatever the limits).
    pub fn with_kdf_limits(mut self, limits: KdfLimits) -> Self {
        self.kdf_limits = limits;
        self
    }

    /// The KDF limits in force: the configured ones, covering the configured costs.
    fn kdf_limits_in_force(&self) -> KdfLimits {
        self.kdf_limits.covering(self.kdf)
    }

    /// This configuration with another checkpoint interval (at least 1).
    pub fn with_checkpoint_every(mut self, entries: u32) -> Self {
        self.checkpoint_every = entries.max(1);
        self
    }

    /// This configuration with another longest wait of an entry for its checkpoint, at most
    /// [`MAX_SEAL_WITHIN`] (a longer one is cut to it).
    pub fn with_seal_within(mut self, within: std::time::Duration) -> Self {
        self.seal_within = within.min(MAX_SEAL_WITHIN);
        self
    }

    /// This configuration with a lower limit of values per data key (tests), at most
    /// [`MAX_SEALS_PER_KEY`] and at least 1.
    pub fn with_seals_per_key(mut self, n: u64) -> Self {
        self.seals_per_key = n.clamp(1, MAX_SEALS_PER_KEY);
        self
    }

    /// The limit of values per data key in force.
    fn seal_limit(&self) -> u64 {
        self.seals_per_key.clamp(1, MAX_SEALS_PER_KEY)
    }

    /// This configuration with a cap on the file's size (see `max_size_bytes`).
    pub fn with_max_size_bytes(mut self, bytes: u64) -> Self {
        self.max_size_bytes = Some(bytes);
        self
    }

    /// This configuration with another idle timeout.
    pub fn with_idle_timeout(mut self, idle: std::time::Duration) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// This configuration with a test's clock (the `test-clock` feature; never in an app).
    #[cfg(feature = "test-clock")]
    pub fn with_test_clock(mut self, clock: crate::clock::TestClock) -> Self {
        self.clock = crate::clock::Clock::Test(clock);
        self
    }

    /// This configuration with a witness at `path`, best effort: every signed checkpoint is
    /// appended there, fsynced before the operation returns, and the witness takes only what
    /// extends what it holds (see `docs/design.md`, "The witness"). Keep it where whoever can
    /// write the vault's file cannot write it (another disk, a synced folder, another
    /// machine's share): a witness beside the vault shows a rollback of the vault alone, not
    /// an edit of both. If it cannot be written to, the vault goes on, logs
    /// `witness.unreachable` (once), and brings it up to date later.
    pub fn with_witness(mut self, path: impl Into<PathBuf>) -> Self {
        self.witness = Some(WitnessConfig {
            path: path.into(),
            mode: WitnessMode::BestEffort,
        });
        self
    }

    /// [`VaultConfig::with_witness`], required: an operation whose checkpoint cannot reach the
    /// witness fails with [`Error::WitnessUnreachable`] or [`Error::WitnessRefused`].
    pub fn with_required_witness(mut self, path: impl Into<PathBuf>) -> Self {
        self.witness = Some(WitnessConfig {
            path: path.into(),
            mode: WitnessMode::Required,
        });
        self
    }

    /// This configuration with another durability.
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }
}

/// What every session of one open vault shares.
pub(crate) struct Shared {
    conn: Mutex<Db>,
    /// Writes of concurrent sessions committed together.
    group: GroupCommit,
    /// Bumped by a master-key rotation: sessions unlocked before it must log in again.
    key_epoch: std::sync::atomic::AtomicU64,
    vault_id: VaultId,
    rng: SystemRandom,
    config: VaultConfig,
    /// The audit signing key, once a user has unlocked it (wiped on drop).
    signer: Mutex<Option<SigningKey>>,
    /// This opening of the file, named in its open and close markers.
    instance: [u8; 16],
    /// The close marker has been written.
    closed: AtomicBool,
    /// What this process knows of the unsealed tail, and the background sealer.
    sealing: sealer::Sealing,
    /// Handles (each `Vault` clone, each `Session`) still open.
    handles: std::sync::atomic::AtomicUsize,
    /// Checkpoints signed by this process so far (a write that signs one updates the witness).
    signed: std::sync::atomic::AtomicU64,
    /// The witness, if configured.
    witness: Option<witness::Witness>,
}

impl Shared {
    /// The connection. A panic while it was held leaves no open transaction behind
    /// (rusqlite rolls back on drop), so a poisoned lock is safe to take over.
    /// The master-key generation (see `key_epoch`).
    pub(crate) fn key_epoch(&self) -> u64 {
        self.key_epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Db> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The vault's wall time, in unix milliseconds: what audit entries and facts are dated with.
    pub(crate) fn now_ms(&self) -> i64 {
        self.config.clock.now_ms()
    }

    pub(crate) fn random_bytes<const N: usize>(&self) -> Result<[u8; N]> {
        let mut b = [0u8; N];
        self.rng
            .fill(&mut b)
            .map_err(|_| Error::Crypto("random source failed"))?;
        Ok(b)
    }
}

/// Associated data binding a user's wrapped master key to this vault and that user.
fn mk_aad(vault: &VaultId, user: &UserId) -> Vec<u8> {
    let mut aad = b"confide/master-key/v1".to_vec();
    aad.extend_from_slice(vault.as_bytes());
    aad.extend_from_slice(user.as_bytes());
    aad
}

/// One practice's vault file, open.
///
/// Cheap to clone; every clone and every session share one connection.
#[derive(Clone)]
pub struct Vault {
    shared: sealer::Handle,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("id", &self.shared.vault_id)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Create a new vault at `path` with its first user, an administrator.
    ///
    /// Refuses to overwrite an existing file. If creation fails part way, the file is removed.
    ///
    /// ```
    /// use confide::{KdfParams, Passphrase, Vault, VaultConfig};
    /// # fn main() -> confide::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("practice.vault");
    /// // Cheap KDF costs for the example; the default is Argon2id m=64 MiB, t=3.
    /// let config = VaultConfig::default().with_kdf(KdfParams::new(64, 1, 1)?);
    /// let pass = Passphrase::new("admin passphrase");
    /// let vault = Vault::create(&path, "admin", &pass, config.clone())?;
    /// assert_eq!(confide::vault_id_of(&path)?, vault.id());
    ///
    /// // Never over an existing file: the vault already there is left as it was.
    /// assert!(Vault::create(&path, "admin", &pass, config.clone()).is_err());
    /// assert_eq!(confide::vault_id_of(&path)?, vault.id());
    ///
    /// // A passphrase shorter than 12 characters is refused, and no file is left behind.
    /// let other = dir.path().join("other.vault");
    /// let short = Vault::create(&other, "admin", &Passphrase::new("too short"), config);
    /// assert!(matches!(short, Err(confide::Error::InvalidInput { .. })));
    /// assert!(!other.exists());
    /// # Ok(())
    /// # }
    /// ```
    pub fn create(
        path: impl AsRef<Path>,
        admin_name: &str,
        admin_passphrase: &Passphrase,
        config: VaultConfig,
    ) -> Result<Vault> {
        let path = path.as_ref();
        users::validate_user_name(admin_name)?;
        let conn = db::create(path, config.durability)?;
        let made = match config.max_size_bytes {
            Some(bytes) => db::cap_size(&conn, bytes),
            None => Ok(()),
        }
        .and_then(|()| Self::initialise(conn, admin_name, admin_passphrase, config));
        if made.is_err() {
            remove_vault_files(path);
        }
        made
    }

    fn initialise(
        conn: Conn,
        admin_name: &str,
        admin_passphrase: &Passphrase,
        config: VaultConfig,
    ) -> Result<Vault> {
        let rng = SystemRandom::new();
        let vault_id = VaultId::random(&rng)?;
        let shared = Shared::new(conn, vault_id, config)?;
        let mk = MasterKey::generate(&shared.rng)?;
        let admin = users::new_user_row(&shared, admin_name, Role::Admin, admin_passphrase, &mk)?;
        let (signer, public) = SigningKey::generate(&shared.rng)?;
        let wrapped_signer = signer.wrap(&shared.rng, &mk, &vault_id)?;
        shared.write(|tx| {
            let at = shared.now_ms();
            rows::insert_vault_meta(tx, &vault_id, db::FORMAT_VERSION, at)?;
            rows::insert_user(tx, &admin, at)?;
            db::audit_rows::insert_audit_key(tx, &public, &wrapped_signer, at)?;
            for action in [AuditAction::VaultCreate, AuditAction::UserAdd] {
                let entry = NewEntry {
                    actor: Some(&admin.id),
                    action,
                    client: None,
                    target: Some(admin.id.as_bytes()),
                    fields: &[],
                    purpose: Some(crate::model::Purpose::Operations),
                    outcome: Outcome::Granted,
                };
                shared.audit_vouched(tx, &entry, |_| {
                    Ok(crate::audit::Vouch {
                        facts: match action {
                            AuditAction::UserAdd => {
                                Some(gate::seal_first_user(&shared, tx, &mk, &admin.id)?)
                            }
                            _ => None,
                        },
                        ..crate::audit::Vouch::default()
                    })
                })?;
            }
            Ok(())
        })?;
        shared.set_signer(signer);
        shared.mark_open()?;
        let shared = sealer::Handle::new(Arc::new(shared));
        shared.arc().start_sealer();
        Ok(Vault { shared })
    }

    /// Open an existing vault.
    pub fn open(path: impl AsRef<Path>, config: VaultConfig) -> Result<Vault> {
        let conn = db::open(path.as_ref(), config.durability)?;
        if let Some(bytes) = config.max_size_bytes {
            db::cap_size(&conn, bytes)?;
        }
        let vault_id = rows::vault_id(&conn)?;
        let shared = Shared::new(conn, vault_id, config)?;
        shared.mark_open()?;
        Ok(Vault {
            shared: sealer::Handle::new(Arc::new(shared)),
        })
    }

    /// This vault's id.
    pub fn id(&self) -> VaultId {
        self.shared.vault_id
    }

    /// Log in. Every attempt, successful or not, is audited.
    ///
    /// ```
    /// use confide::{AuditAction, AuditFilter, Error, KdfParams, Passphrase, Role, Vault,
    ///               VaultConfig, read_audit_log};
    /// # fn main() -> confide::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("practice.vault");
    /// // Cheap KDF costs for the example; the default is Argon2id m=64 MiB, t=3.
    /// let config = VaultConfig::default().with_kdf(KdfParams::new(64, 1, 1)?);
    /// let vault = Vault::create(&path, "admin", &Passphrase::new("admin passphrase"), config)?;
    ///
    /// let admin = vault.unlock("admin", &Passphrase::new("admin passphrase"))?;
    /// assert_eq!((admin.user_name(), admin.role()), ("admin", Role::Admin));
    ///
    /// let wrong = vault.unlock("admin", &Passphrase::new("not the passphrase"));
    /// assert!(matches!(wrong, Err(Error::BadPassphrase)));
    /// let nobody = vault.unlock("mallory", &Passphrase::new("any passphrase at all"));
    /// assert!(matches!(nobody, Err(Error::UnknownUser)));
    ///
    /// // All three attempts are in the log, in order.
    /// let logins = AuditFilter { action: Some(AuditAction::Login), ..AuditFilter::default() };
    /// let outcomes: Vec<String> =
    ///     read_audit_log(&path, &logins)?.entries.into_iter().map(|e| e.outcome).collect();
    /// assert_eq!(outcomes, ["granted", "failed:bad-passphrase", "failed:unknown-user"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn unlock(&self, user_name: &str, passphrase: &Passphrase) -> Result<Session> {
        let shared = &self.shared;
        let row = {
            let conn = shared.conn();
            rows::user_by_name(&conn, user_name)?
        };
        let failed = |actor: Option<&UserId>, why: Failure, err: Error| -> Result<Session> {
            shared.audit(&NewEntry {
                actor,
                action: AuditAction::Login,
                client: None,
                target: None,
                fields: &[],
                purpose: None,
                outcome: Outcome::Failed(why),
            })?;
            Err(err)
        };
        let Some(row) = row else {
            return failed(None, Failure::UnknownUser, Error::UnknownUser);
        };
        match row.status {
            UserStatus::Active => {}
            UserStatus::Disabled => {
                return failed(Some(&row.id), Failure::UserDisabled, Error::UserDisabled);
            }
            UserStatus::Removed => {
                return failed(Some(&row.id), Failure::UserRemoved, Error::UserRemoved);
            }
        }
        // Before any work: a row asking more than the limits would make every login stall.
        let params = match shared.config.kdf_limits_in_force().admit(row.kdf) {
            Ok(params) => params,
            Err(err @ Error::ExcessiveWork { .. }) => {
                return failed(Some(&row.id), Failure::ExcessiveWork, err);
            }
            Err(err) => return Err(err),
        };
        let kek = derive_kek(passphrase.bytes(), &row.kdf_salt, params)?;
        let mk = match shared.master_key_at_login(&row, &kek)? {
            users::AtLogin::Key(mk) => mk,
            users::AtLogin::WrongPassphrase => {
                return failed(Some(&row.id), Failure::BadPassphrase, Error::BadPassphrase);
            }
            users::AtLogin::Damaged => {
                let place = crate::error::Place {
                    table: "users",
                    owner: shared.vault_id.to_string(),
                    record: row.id.to_string(),
                    field: "sealed_mk".into(),
                };
                return failed(
                    Some(&row.id),
                    Failure::Integrity,
                    Error::Integrity { place },
                );
            }
        };
        if let Err(e) = gate::check_login(shared, &mk, &row.id) {
            return failed(Some(&row.id), Failure::Integrity, e);
        }
        shared.ensure_keypair(&row, &kek)?;
        // A key that is not the stored public key's would sign checkpoints audit-verify then
        // calls forged, or the stored key was replaced to vouch for a rewritten log: refused.
        let audit_key = match shared.audit_key_at_login(&mk) {
            Ok(key) => key,
            Err(err @ Error::Integrity { .. }) => {
                return failed(Some(&row.id), Failure::Integrity, err);
            }
            Err(err) => return Err(err),
        };
        shared.audit(&NewEntry {
            actor: Some(&row.id),
            action: AuditAction::Login,
            client: None,
            target: None,
            fields: &[],
            purpose: None,
            outcome: Outcome::Granted,
        })?;
        shared.upgrade_kdf(&row, passphrase, &mk)?;
        shared.load_signer(audit_key, &mk, &row.id)?;
        shared.arc().start_sealer();
        let session = Session::new(shared.clone(), row.id, row.name, row.role, mk)?;
        session.baseline_if_needed()?;
        Ok(session)
    }
}

/// Remove a vault file and its WAL companions, ignoring files that are not there.
fn remove_vault_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p: PathBuf = path.as_os_str().to_owned().into();
        p.as_mut_os_string().push(suffix);
        let _ = std::fs::remove_file(p);
    }
}
