//! `osmo audit list`.

use super::Ctx;
use crate::audit;
use crate::error::Result;
use crate::output;

pub fn list(ctx: &mut Ctx, user: Option<&str>, count: u32) -> Result<()> {
    let (store, caller) = (&mut ctx.store, &ctx.caller);
    output::audit::events(ctx.format, |each| {
        audit::list(store, caller, user, count, each)
    })
}
