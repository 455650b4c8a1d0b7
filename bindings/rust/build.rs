//! Tells rustc where libvicreg.so is.
//!
//! VICREG_LIB_DIR, if set, names the directory that holds libvicreg.so (a
//! Meson build directory, or an install's libdir); programs built by this
//! package (its tests, examples) also get that directory as their run-time
//! search path, so they run without LD_LIBRARY_PATH. Otherwise the
//! `pkg-config` program is asked for `--libs vicreg` (set PKG_CONFIG_PATH for
//! an install outside the default search path); its -L directories are
//! searched and the library is found at run time by the dynamic loader as
//! any installed library is.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=VICREG_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");

    if let Some(dir) = env::var_os("VICREG_LIB_DIR") {
        let dir = dir.to_string_lossy().into_owned();
        println!("cargo:rustc-link-search=native={}", dir);
        println!("cargo:rustc-link-lib=dylib=vicreg");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
        return;
    }

    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let output = Command::new(&pkg_config).args(["--libs", "vicreg"]).output();
    let libs = match output {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => fail(&format!(
            "`{} --libs vicreg` failed: {}",
            pkg_config,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(err) => fail(&format!("cannot run `{}`: {}", pkg_config, err)),
    };
    let mut found = false;
    for flag in libs.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
        } else if let Some(name) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={}", name);
            found |= name == "vicreg";
        }
    }
    if !found {
        fail(&format!("`{} --libs vicreg` does not name -lvicreg: {}", pkg_config, libs.trim()));
    }
}

fn fail(why: &str) -> ! {
    eprintln!(
        "error: libvicreg not found: {}\n\
         Set VICREG_LIB_DIR to the directory of libvicreg.so (a Meson build \
         directory works), or PKG_CONFIG_PATH to the directory of vicreg.pc.",
        why
    );
    std::process::exit(1);
}
