//! `osmo audit list`.

use super::Ctx;
use crate::audit;
use crate::error::Result;
use crate::output::emit;

pub fn list(ctx: &mut Ctx, user: Option<&str>, count: u32) -> Result<()> {
    emit(
        ctx.format,
        &audit::list(&mut ctx.store, &ctx.caller, user, count)?,
    )
}
