//! The decoded form of every translated provider's non-streaming answer.

use super::{DecodedResponse, TranslateCtx};
use crate::error::GatewayError;
pub use crate::translate::events::Answer;

impl Answer<'_> {
    /// The body in the request's client format, with the answer's usage.
    pub fn decoded(self, ctx: &TranslateCtx<'_>) -> Result<DecodedResponse, GatewayError> {
        let usage = self.usage;
        Ok(DecodedResponse {
            body: self.render(ctx)?,
            usage,
        })
    }
}
