//! `explain`: the documentation page of a diagnostic code, or the list of codes.

use meshc::codes::Code;

use super::Status;

pub(crate) fn run(code: Option<&str>) -> Status {
    let Some(code) = code else {
        for c in Code::ALL {
            println!("{}  {:<22} {}", c.id(), c.name(), c.summary());
        }
        return Status::Ok;
    };
    match code.parse::<Code>() {
        Ok(c) => {
            print!("{}", c.doc());
            Status::Ok
        }
        Err(()) => {
            say!("unknown code `{code}`; `meshc explain` lists them all");
            Status::Trouble
        }
    }
}
