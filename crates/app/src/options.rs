//! The walkthrough's display options: which steps, compact or not, where to start. Read from a
//! documentation page's mount element by `embed`, defaulted for the app's own page.

/// Options read from the mount element's data attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Which steps to show (1 to 6), in order.
    pub steps: Vec<u8>,
    /// Collapse each step's explanation.
    pub compact: bool,
    /// The step to scroll to on load.
    pub start_step: u8,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        Self {
            steps: (1..=6).collect(),
            compact: false,
            start_step: 1,
        }
    }
}

impl EmbedOptions {
    /// From `data-steps` ("1,2,3" or "2-4"), `data-compact` ("true"/"false"), `data-start-step`.
    /// Values that do not parse fall back to the defaults.
    pub fn parse(steps: Option<&str>, compact: Option<&str>, start_step: Option<&str>) -> Self {
        let defaults = Self::default();
        // Indexed by step number: in order and without repeats, with no sorting code in the wasm.
        let mut wanted = [false; 7];
        for part in steps
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let range = match part.split_once('-') {
                Some((a, b)) => a.trim().parse::<u8>().ok().zip(b.trim().parse::<u8>().ok()),
                None => part.parse::<u8>().ok().map(|n| (n, n)),
            };
            if let Some((from, to)) = range {
                for n in from.max(1)..=to.min(6) {
                    wanted[usize::from(n)] = true;
                }
            }
        }
        let chosen: Vec<u8> = (1..=6).filter(|&n| wanted[usize::from(n)]).collect();
        Self {
            steps: if chosen.is_empty() { defaults.steps } else { chosen },
            compact: matches!(compact.map(str::trim), Some("" | "true" | "1" | "yes")),
            start_step: start_step
                .and_then(|s| s.trim().parse().ok())
                .filter(|n| (1..=6).contains(n))
                .unwrap_or(1),
        }
    }

    /// From the mount element's data attributes.
    pub fn from_element(element: &web_sys::HtmlElement) -> Self {
        let data = element.dataset();
        Self::parse(
            data.get("steps").as_deref(),
            data.get("compact").as_deref(),
            data.get("startStep").as_deref(),
        )
    }
}
