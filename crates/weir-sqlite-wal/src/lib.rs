//! A SQLite VFS for Weir's writer connection: each commit's WAL frames reach the file in one
//! write instead of two per page.
//!
//! SQLite writes a WAL frame as two `pwrite`s, its 24-byte header and then the page, so a group
//! commit of 27 pages makes 54 system calls before its sync; on the two-core machine Weir is
//! measured on those cost 70–80 µs of a commit's ~500 µs, where one write of the same bytes
//! costs 15–20 µs. This VFS wraps the default one (`unix` on Linux) and, for WAL files only,
//! collects writes that extend one another in memory and writes them out in one go. It writes
//! them out before anything could see the file without them:
//!
//! - before the WAL is synced, read, sized, truncated, given a file control or closed, and
//!   before a write that neither extends nor falls within what is collected;
//! - when the connection calls the shared-memory barrier on its database file, which SQLite does
//!   before it makes a new WAL header (a commit) visible to other connections;
//! - before the connection releases the WAL's write lock, so that frames of a transaction that
//!   spilled pages and then rolled back are in the file, as they would have been, before any
//!   other connection may write there.
//!
//! Whenever another connection or process could look at the WAL, it therefore holds exactly the
//! bytes it would hold without this VFS, and a commit is synced with its frames in it: what
//! changes is the number of system calls. Frames of a transaction that had not yet reached its
//! sync are lost if the process dies, which changes nothing either: such a transaction was never
//! reported committed, and without a sync it could be lost anyway.
//!
//! SQLite calls the barrier with no way to report an error, so a commit's frames must already be
//! written out by then: they are, at its sync, and a connection through this VFS refuses
//! `PRAGMA synchronous` below FULL (and `locking_mode = EXCLUSIVE`, which releases no write
//! lock). Should a write out at the barrier fail anyway, the file refuses every later operation.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::mem::size_of;
use std::ptr::{self, null_mut};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};

use libsqlite3_sys as ffi;

/// The name to open connections with (`Connection::open_with_flags_and_vfs`).
pub const NAME: &str = "weir-wal";
const NAME_C: &CStr = c"weir-wal";

/// What is collected is written out once it reaches this size, whatever comes next (a group
/// commit of W1 is about 110 KiB; a larger bound only holds more memory for few calls saved).
const WRITE_OUT_AT: usize = 256 * 1024;

/// Written out in pieces of this size: the default VFS writes at most 128 KiB - 1 bytes a call.
const CHUNK: usize = 124 * 1024;
const _: () = assert!(CHUNK <= 0x1ffff);

/// The WAL's write lock is slot 0 of the shared-memory locks.
const WAL_WRITE_LOCK: c_int = 0;

/// The VFS this one wraps.
static INNER: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(null_mut());

/// Registers the VFS (once per process; later calls return the first call's outcome) and
/// returns its name. It is not made the default: only connections opened with its name use it.
pub fn register() -> Result<&'static str, String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED.get_or_init(register_once).clone().map(|()| NAME)
}

fn register_once() -> Result<(), String> {
    // SAFETY: with a null name, sqlite3_vfs_find initialises SQLite if needed and returns the
    // default VFS, which stays registered and alive for the life of the process.
    let inner = unsafe { ffi::sqlite3_vfs_find(ptr::null()) };
    if inner.is_null() {
        return Err("SQLite has no default VFS to wrap".into());
    }
    // SAFETY: `inner` is a valid VFS (above); the copy takes its plain fields and callbacks.
    let mut vfs = unsafe { *inner };
    let inner_size = usize::try_from(vfs.szOsFile).map_err(|_| "bad szOsFile".to_string())?;
    vfs.szOsFile =
        c_int::try_from(INNER_OFFSET + inner_size).map_err(|_| "bad szOsFile".to_string())?;
    vfs.zName = NAME_C.as_ptr();
    vfs.pNext = null_mut();
    // Only opening differs: the other callbacks of the default VFS read no more of their VFS
    // argument than the fields copied here.
    vfs.xOpen = Some(open);
    INNER.store(inner, Ordering::Release);
    let vfs = Box::leak(Box::new(vfs));
    // SAFETY: `vfs` is a complete VFS that lives for the rest of the process (leaked).
    let rc = unsafe { ffi::sqlite3_vfs_register(vfs, 0) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(format!("cannot register the {NAME} VFS: SQLite error {rc}"))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Main,
    Wal,
    Other,
}

/// The file object SQLite allocates (`szOsFile` bytes): ours, then the wrapped VFS's.
#[repr(C)]
struct File {
    /// First, so that a `*mut sqlite3_file` SQLite hands back is a `*mut File`.
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    kind: Kind,
    /// A main database file's open WAL, or a WAL's main database file; null when there is none.
    peer: *mut File,
    /// Collected bytes of a WAL, to be written at `start`.
    pending: Vec<u8>,
    start: i64,
    /// Set when writing out failed where SQLite could not be told: every later call fails.
    broken: bool,
}

/// The offset of the wrapped VFS's file object, rounded for its alignment.
const INNER_OFFSET: usize = size_of::<File>().next_multiple_of(8);

impl File {
    /// Writes out what is collected.
    ///
    /// # Safety
    /// `self.inner` must be an open file of the wrapped VFS.
    unsafe fn write_out(&mut self) -> c_int {
        if self.broken {
            return ffi::SQLITE_IOERR_WRITE;
        }
        if self.pending.is_empty() {
            return ffi::SQLITE_OK;
        }
        #[cfg(test)]
        if tests::fail_a_write_out() {
            return ffi::SQLITE_FULL;
        }
        for (i, chunk) in self.pending.chunks(CHUNK).enumerate() {
            let at = self.start + (i * CHUNK) as i64;
            // SAFETY: `inner` is open (the caller's promise) and its methods are the wrapped
            // VFS's; the chunk is valid for its length, which fits a c_int.
            let rc = unsafe {
                let write = (*(*self.inner).pMethods).xWrite.expect("xWrite");
                write(self.inner, chunk.as_ptr().cast(), chunk.len() as c_int, at)
            };
            if rc != ffi::SQLITE_OK {
                // Part may be written: the next write out starts again from the beginning.
                return rc;
            }
        }
        self.pending.clear();
        ffi::SQLITE_OK
    }

    /// Takes a write of `data` at `offset` into what is collected, writing that out first when
    /// the write neither extends it nor falls within it.
    ///
    /// # Safety
    /// As for [`File::write_out`].
    unsafe fn collect(&mut self, data: &[u8], offset: i64) -> c_int {
        if self.broken {
            return ffi::SQLITE_IOERR_WRITE;
        }
        let end = self.start + self.pending.len() as i64;
        if !self.pending.is_empty() {
            if offset >= self.start && offset + data.len() as i64 <= end {
                let at = (offset - self.start) as usize;
                self.pending[at..at + data.len()].copy_from_slice(data);
                return ffi::SQLITE_OK;
            }
            if offset != end {
                // SAFETY: the caller's promise.
                let rc = unsafe { self.write_out() };
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
            }
        }
        if self.pending.is_empty() {
            self.start = offset;
        }
        self.pending.extend_from_slice(data);
        if self.pending.len() >= WRITE_OUT_AT {
            // SAFETY: the caller's promise.
            return unsafe { self.write_out() };
        }
        ffi::SQLITE_OK
    }
}

/// The wrapped file's method table.
///
/// # Safety
/// `file` must be a file opened by [`open`] whose wrapped file is open.
unsafe fn methods(
    file: *mut ffi::sqlite3_file,
) -> (*mut ffi::sqlite3_file, &'static ffi::sqlite3_io_methods) {
    // SAFETY: the caller's promise; the wrapped VFS's method tables are static.
    unsafe {
        let inner = (*file.cast::<File>()).inner;
        (inner, &*(*inner).pMethods)
    }
}

/// Writes out a WAL's collected bytes before an operation that must see them (a no-op for other
/// files), then returns early from the callback with the error if that failed.
macro_rules! written_out {
    ($file:expr) => {{
        let f = $file.cast::<File>();
        // SAFETY: SQLite passes callbacks a file that `open` opened, from one thread at a time.
        if unsafe { (*f).kind } == Kind::Wal {
            // SAFETY: as above; the wrapped file is open until `close`.
            let rc = unsafe { (*f).write_out() };
            if rc != ffi::SQLITE_OK {
                return rc;
            }
        }
    }};
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let inner_vfs = INNER.load(Ordering::Acquire);
    let f = file.cast::<File>();
    // SAFETY: SQLite gives `szOsFile` bytes, 8-aligned, for the file object: `File` and then,
    // at INNER_OFFSET, the wrapped VFS's object, which its own xOpen fills in. `name` is the
    // name SQLite passed to this xOpen, which is what sqlite3_database_file_object expects for
    // a WAL; the main file it returns was opened by this VFS when its methods are ours.
    unsafe {
        let inner = file
            .cast::<u8>()
            .add(INNER_OFFSET)
            .cast::<ffi::sqlite3_file>();
        let kind = if flags & ffi::SQLITE_OPEN_WAL != 0 {
            Kind::Wal
        } else if flags & ffi::SQLITE_OPEN_MAIN_DB != 0 {
            Kind::Main
        } else {
            Kind::Other
        };
        ptr::write(
            f,
            File {
                base: ffi::sqlite3_file {
                    pMethods: ptr::null(),
                },
                inner,
                kind,
                peer: null_mut(),
                pending: Vec::new(),
                start: 0,
                broken: false,
            },
        );
        (*inner).pMethods = ptr::null();
        let rc = ((*inner_vfs).xOpen.expect("xOpen"))(inner_vfs, name, inner, flags, out_flags);
        if (*inner).pMethods.is_null() {
            // SQLite will not call xClose: nothing of ours may stay allocated.
            ptr::drop_in_place(f);
            return rc;
        }
        (*f).base.pMethods = &METHODS;
        if rc == ffi::SQLITE_OK && kind == Kind::Wal && !name.is_null() {
            let main = ffi::sqlite3_database_file_object(name).cast::<File>();
            if !main.is_null() && ptr::eq((*main).base.pMethods, &METHODS) {
                (*main).peer = f;
                (*f).peer = main;
            }
        }
        rc
    }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    let f = file.cast::<File>();
    // SAFETY: SQLite closes a file opened by `open` once, and calls nothing on it afterwards;
    // a peer's pointer to it is cleared here, before it goes.
    unsafe {
        let written = if (*f).kind == Kind::Wal {
            (*f).write_out()
        } else {
            ffi::SQLITE_OK
        };
        if !(*f).peer.is_null() {
            (*(*f).peer).peer = null_mut();
        }
        let (inner, m) = methods(file);
        let rc = (m.xClose.expect("xClose"))(inner);
        ptr::drop_in_place(f);
        if written != ffi::SQLITE_OK {
            written
        } else {
            rc
        }
    }
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    written_out!(file);
    // SAFETY: a file opened by `open`; the arguments are SQLite's, passed on.
    unsafe {
        let (inner, m) = methods(file);
        (m.xRead.expect("xRead"))(inner, buf, amount, offset)
    }
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let f = file.cast::<File>();
    // SAFETY: a file opened by `open`; SQLite's buffer holds `amount` bytes.
    unsafe {
        if (*f).kind == Kind::Wal {
            let Ok(len) = usize::try_from(amount) else {
                return ffi::SQLITE_IOERR_WRITE;
            };
            return (*f).collect(std::slice::from_raw_parts(buf.cast::<u8>(), len), offset);
        }
        let (inner, m) = methods(file);
        (m.xWrite.expect("xWrite"))(inner, buf, amount, offset)
    }
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    written_out!(file);
    // SAFETY: a file opened by `open`.
    unsafe {
        let (inner, m) = methods(file);
        (m.xTruncate.expect("xTruncate"))(inner, size)
    }
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    written_out!(file);
    // SAFETY: a file opened by `open`.
    unsafe {
        let (inner, m) = methods(file);
        (m.xSync.expect("xSync"))(inner, flags)
    }
}

unsafe extern "C" fn file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    written_out!(file);
    // SAFETY: a file opened by `open`.
    unsafe {
        let (inner, m) = methods(file);
        (m.xFileSize.expect("xFileSize"))(inner, size)
    }
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: a file opened by `open`.
    unsafe {
        let (inner, m) = methods(file);
        (m.xLock.expect("xLock"))(inner, level)
    }
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: a file opened by `open`.
    unsafe {
        write_out_or_drop_wal_of(file);
        let (inner, m) = methods(file);
        (m.xUnlock.expect("xUnlock"))(inner, level)
    }
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: a file opened by `open`.
    unsafe {
        let (inner, m) = methods(file);
        (m.xCheckReservedLock.expect("xCheckReservedLock"))(inner, out)
    }
}

/// Why a pragma may not be set on a connection through this VFS, if it may not: a commit must
/// be synced (its frames are written out by then, before SQLite publishes it), and the
/// connection must take the WAL write lock through shared memory (released, it writes out).
///
/// # Safety
/// Both pointers are null or point to C strings.
unsafe fn refusal(name: *const c_char, value: *const c_char) -> Option<&'static CStr> {
    if name.is_null() || value.is_null() {
        return None;
    }
    // SAFETY: the caller's promise.
    let (name, value) = unsafe { (CStr::from_ptr(name), CStr::from_ptr(value)) };
    let name = name.to_string_lossy().to_ascii_lowercase();
    let value = value.to_string_lossy().trim().to_ascii_lowercase();
    match name.as_str() {
        // SQLite's reading of the level: a number, or a word (`on`/`yes`/`true` are NORMAL).
        "synchronous" => {
            let level = match value.as_str() {
                "full" => 2,
                "extra" => 3,
                v => v.parse::<i64>().unwrap_or(0),
            };
            (level < 2).then_some(c"the weir-wal VFS needs synchronous = FULL or EXTRA")
        }
        "locking_mode" => {
            (value == "exclusive").then_some(c"the weir-wal VFS needs locking_mode = NORMAL")
        }
        _ => None,
    }
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    written_out!(file);
    // SAFETY: a file opened by `open`; for SQLITE_FCNTL_PRAGMA, SQLite passes an array of
    // three C strings (error out, pragma name, argument or null).
    unsafe {
        if op == ffi::SQLITE_FCNTL_PRAGMA && (*file.cast::<File>()).kind == Kind::Main {
            let words = arg.cast::<*mut c_char>();
            if let Some(refusal) = refusal(*words.add(1), *words.add(2)) {
                *words = ffi::sqlite3_mprintf(c"%s".as_ptr(), refusal.as_ptr());
                return ffi::SQLITE_ERROR;
            }
        }
        let (inner, m) = methods(file);
        (m.xFileControl.expect("xFileControl"))(inner, op, arg)
    }
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: a file opened by `open`.
    unsafe {
        let (inner, m) = methods(file);
        (m.xSectorSize.expect("xSectorSize"))(inner)
    }
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: a file opened by `open`.
    unsafe {
        let (inner, m) = methods(file);
        (m.xDeviceCharacteristics.expect("xDeviceCharacteristics"))(inner)
    }
}

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    page_size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: a file opened by `open`; a wrapped file without the method is refused.
    unsafe {
        let (inner, m) = methods(file);
        match m.xShmMap {
            Some(map) => map(inner, page, page_size, extend, out),
            None => ffi::SQLITE_IOERR_SHMMAP,
        }
    }
}

/// Writes out the WAL of a main database file, if it has one open (see the module's notes).
///
/// # Safety
/// `file` must be a file opened by [`open`].
unsafe fn write_out_wal_of(file: *mut ffi::sqlite3_file) -> c_int {
    let f = file.cast::<File>();
    // SAFETY: the caller's promise; a WAL clears the pointer to it when it closes.
    unsafe {
        if (*f).kind == Kind::Main && !(*f).peer.is_null() {
            return (*(*f).peer).write_out();
        }
    }
    ffi::SQLITE_OK
}

/// Writes out the WAL of a main database file as its connection gives up writing (the WAL write
/// lock, or the file lock when leaving exclusive locking): what is collected then can only be
/// frames of a transaction that did not commit (a commit was written out at its sync), which
/// must reach the file before another connection writes there, or never. If writing them out
/// fails they are dropped, as the frames of a failed `pwrite` would be missing without this
/// VFS, and the connection goes on (a full disk that frees up again is no reason to stop).
///
/// # Safety
/// `file` must be a file opened by [`open`].
unsafe fn write_out_or_drop_wal_of(file: *mut ffi::sqlite3_file) {
    // SAFETY: the caller's promise; a WAL clears the pointer to it when it closes.
    unsafe {
        if write_out_wal_of(file) != ffi::SQLITE_OK {
            (*(*file.cast::<File>()).peer).pending.clear();
        }
    }
}

unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: a file opened by `open`.
    unsafe {
        let releases_write_lock = flags & ffi::SQLITE_SHM_UNLOCK != 0
            && offset <= WAL_WRITE_LOCK
            && WAL_WRITE_LOCK < offset + n;
        if releases_write_lock {
            write_out_or_drop_wal_of(file);
        }
        let (inner, m) = methods(file);
        match m.xShmLock {
            Some(lock) => lock(inner, offset, n, flags),
            None => ffi::SQLITE_IOERR_SHMLOCK,
        }
    }
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: a file opened by `open`.
    unsafe {
        if write_out_wal_of(file) != ffi::SQLITE_OK {
            let wal = (*file.cast::<File>()).peer;
            (*wal).broken = true;
        }
        let (inner, m) = methods(file);
        if let Some(barrier) = m.xShmBarrier {
            barrier(inner);
        }
    }
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    // SAFETY: a file opened by `open`.
    unsafe {
        let (inner, m) = methods(file);
        match m.xShmUnmap {
            Some(unmap) => unmap(inner, delete),
            None => ffi::SQLITE_OK,
        }
    }
}

unsafe extern "C" fn fetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    written_out!(file);
    // SAFETY: a file opened by `open`; without the method there is no mapping to give.
    unsafe {
        let (inner, m) = methods(file);
        match m.xFetch {
            Some(fetch) => fetch(inner, offset, amount, out),
            None => {
                *out = null_mut();
                ffi::SQLITE_OK
            }
        }
    }
}

unsafe extern "C" fn unfetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    page: *mut c_void,
) -> c_int {
    // SAFETY: a file opened by `open`.
    unsafe {
        let (inner, m) = methods(file);
        match m.xUnfetch {
            Some(unfetch) => unfetch(inner, offset, page),
            None => ffi::SQLITE_OK,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use rusqlite::{Connection, OpenFlags};

    thread_local! {
        /// How many of this thread's next write outs fail as if the disk were full.
        static FAILING: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn fail_a_write_out() -> bool {
        FAILING.with(|n| {
            let failing = n.get() > 0;
            n.set(n.get().saturating_sub(1));
            failing
        })
    }

    /// Named as weir-store's `testing::scratch` names its folders (this crate cannot use it:
    /// weir-store depends on this one), so that its sweep removes them too.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("weir-store-wal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("test.db")
    }

    fn writer(path: &std::path::Path) -> Connection {
        let name = super::register().unwrap();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let conn = Connection::open_with_flags_and_vfs(path, flags, name).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)",
        )
        .unwrap();
        conn
    }

    fn other(path: &std::path::Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        conn
    }

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    fn check(conn: &Connection) {
        let result: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(result, "ok");
    }

    #[test]
    fn each_commit_is_in_the_file_for_other_connections() {
        let path = scratch("commits");
        let w = writer(&path);
        let r = other(&path);
        for i in 1..=50 {
            let tx = w.unchecked_transaction().unwrap();
            for _ in 0..i {
                tx.execute("INSERT INTO t (body) VALUES (?1)", ["x".repeat(300)])
                    .unwrap();
            }
            tx.commit().unwrap();
            // Read through the default VFS, from its own file handle: the frames must be there.
            assert_eq!(count(&r), (1..=i).sum::<i64>());
        }
        check(&r);
        // A checkpoint from the other connection copies what the writer wrote.
        r.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        assert_eq!(count(&other(&path)), 1275);
    }

    #[test]
    fn a_commit_larger_than_what_is_collected_at_once() {
        let path = scratch("large");
        let w = writer(&path);
        let tx = w.unchecked_transaction().unwrap();
        for i in 0..2_000 {
            tx.execute("INSERT INTO t (body) VALUES (?1)", [vec![i as u8; 3_000]])
                .unwrap();
        }
        tx.commit().unwrap();
        let r = other(&path);
        assert_eq!(count(&r), 2_000);
        let sum: i64 = r
            .query_row("SELECT SUM(length(body)) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sum, 6_000_000);
        check(&r);
    }

    /// A transaction that spills pages into the WAL and then rolls back leaves frames past the
    /// last commit; another connection then writes its own commit over them. Spilled frames
    /// written out late would overwrite that commit. (In these runs SQLite's undo reads the
    /// spilled pages back, which writes them out before the write lock is released; releasing
    /// it writes out whatever would be left.) Transactions of 20 to 1,200 rows spill 5 to 600
    /// pages.
    #[test]
    fn a_rolled_back_spill_never_lands_on_a_later_commit() {
        let path = scratch("spill");
        let w = writer(&path);
        w.execute_batch("PRAGMA cache_size = 10; PRAGMA cache_spill = 5")
            .unwrap();
        let r = other(&path);
        let mut expected = 0;
        for rows in 1..=60 {
            let tx = w.unchecked_transaction().unwrap();
            for _ in 0..rows * 20 {
                tx.execute("INSERT INTO t (body) VALUES (?1)", [vec![7u8; 2_000]])
                    .unwrap();
            }
            tx.rollback().unwrap();
            let tx = r.unchecked_transaction().unwrap();
            for _ in 0..10 {
                tx.execute(
                    "INSERT INTO t (body) VALUES (?1)",
                    [vec![rows as u8; 1_500]],
                )
                .unwrap();
            }
            tx.commit().unwrap();
            w.execute("INSERT INTO t (body) VALUES (?1)", [vec![9u8; 500]])
                .unwrap();
            expected += 11;
            assert_eq!(count(&r), expected, "after {} rows rolled back", rows * 20);
            check(&r);
        }
        drop(w);
        let fresh = other(&path);
        assert_eq!(count(&fresh), expected);
        check(&fresh);
    }

    /// A commit whose frames cannot be written (a full disk) fails, and so does writing them
    /// out as the write lock is released; the connection then goes on like one through the
    /// default VFS: the next commit, once there is room, succeeds.
    #[test]
    fn a_failed_write_out_fails_its_commit_and_not_the_next() {
        let path = scratch("full");
        let w = writer(&path);
        w.execute("INSERT INTO t (body) VALUES ('kept')", [])
            .unwrap();
        FAILING.with(|n| n.set(2));
        let failed = w.execute("INSERT INTO t (body) VALUES ('lost')", []);
        assert!(failed.is_err(), "{failed:?}");
        assert_eq!(
            FAILING.with(Cell::get),
            0,
            "the sync and the release both tried"
        );
        w.execute("INSERT INTO t (body) VALUES ('later')", [])
            .unwrap();
        let r = other(&path);
        let bodies: Vec<String> = r
            .prepare("SELECT body FROM t ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(bodies, ["kept", "later"]);
        check(&r);
    }

    #[test]
    fn settings_that_would_publish_unwritten_frames_are_refused() {
        let path = scratch("pragmas");
        let w = writer(&path);
        for refused in [
            "PRAGMA synchronous = NORMAL",
            "PRAGMA synchronous = OFF",
            "PRAGMA synchronous = 1",
            "PRAGMA synchronous = on",
            "PRAGMA main.synchronous = normal",
            "PRAGMA locking_mode = EXCLUSIVE",
        ] {
            let err = w.execute_batch(refused).unwrap_err().to_string();
            assert!(err.contains("weir-wal VFS needs"), "{refused}: {err}");
        }
        for allowed in [
            "PRAGMA synchronous = FULL",
            "PRAGMA synchronous = EXTRA",
            "PRAGMA synchronous = 2",
        ] {
            w.execute_batch(allowed).unwrap();
        }
        let level: i64 = w
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(level, 2);
        let mode: String = w
            .pragma_query_value(None, "locking_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "normal");
    }

    #[test]
    fn registering_twice_gives_the_same_name() {
        assert_eq!(super::register().unwrap(), super::NAME);
        assert_eq!(super::register().unwrap(), super::NAME);
    }
}
