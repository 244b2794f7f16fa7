import Structures

/// Atoms that one 2-D image cannot tell apart: two atoms closer than σ in x–y but apart in z
/// (an adsorbate over the metal atom it binds to, a subsurface atom under a surface one) project
/// onto one blob. Species channels keep a whole image's stacked atoms of different species
/// apart; atom-centred patches need z-slices (`--depth`), since both atoms' patches see the same
/// two blobs at their centre whatever the channels.
public enum ProjectionOverlap {
    /// Structures with a stacked pair, and the first such pair (1-based numbers for messages).
    public struct Finding: Sendable, Equatable {
        public var structures = 0
        public var first: (structure: Int, a: Int, b: Int)?

        mutating func add(_ pair: (Int, Int)?, in structure: Int) {
            guard let pair else { return }
            structures += 1
            if first == nil { first = (structure + 1, pair.0 + 1, pair.1 + 1) }
        }

        public static func == (lhs: Finding, rhs: Finding) -> Bool {
            lhs.structures == rhs.structures && lhs.first?.structure == rhs.first?.structure
                && lhs.first?.a == rhs.first?.a && lhs.first?.b == rhs.first?.b
        }
    }

    /// Stacked pairs in the first structures of a data set, at one σ.
    public struct Survey: Sendable, Equatable {
        public var sigma: Double
        public var sampled = 0
        /// Pairs of any two atoms, and pairs of one species (which species channels cannot part).
        public var anySpecies = Finding()
        public var sameSpecies = Finding()

        /// "in 3 of the first 200 structures two atoms are within σ … (first: structure …)".
        public func describe(_ finding: Finding) -> String {
            let first = finding.first.map { " (first: structure \($0.structure), atoms \($0.a) and \($0.b))" } ?? ""
            return "in \(finding.structures) of the first \(sampled) structures two atoms are within σ = \(sigma) Å in x–y "
                + "but further apart in z\(first)"
        }
    }

    /// Looks at the leading structures (those with at most `LeadingStructures.largestStructure`
    /// atoms, dummy atoms included, as read).
    public static func survey(_ leading: LeadingStructures, sigma: Double) throws -> Survey {
        var survey = Survey(sigma: sigma)
        guard sigma > 0, sigma.isFinite else { return survey }
        for sampled in try leading.structures() where sampled.whole {
            survey.sampled += 1
            survey.anySpecies.add(mergedPair(sampled.structure, sigma: sigma), in: sampled.index)
            survey.sameSpecies.add(mergedPair(sampled.structure, sigma: sigma, sameSpecies: true), in: sampled.index)
        }
        return survey
    }

    /// The stacked pairs images under `settings` still merge (`patches`: atom-centred patches),
    /// or nil when they keep every found pair apart.
    public static func merged(_ survey: Survey, settings: RasterSettings, patches: Bool) -> Finding? {
        guard settings.depth == 1 else { return nil }
        let finding: Finding
        if case .species = settings.channels, !patches { finding = survey.sameSpecies } else { finding = survey.anySpecies }
        return finding.first == nil ? nil : finding
    }

    /// A warning naming how many sampled structures the images still merge atoms in and the
    /// first pair, with the remedy; nil when none.
    public static func warning(_ survey: Survey, settings: RasterSettings, patches: Bool) -> String? {
        guard let finding = merged(survey, settings: settings, patches: patches) else { return nil }
        let remedy = patches ? "--depth auto (or N > 1: z-slices) keeps them apart"
            : "--channels species parts atoms of different species; --depth N with --centre structure (3-D images) parts all"
        return "warning: 2-D images merge atoms that lie above one another: \(survey.describe(finding)); "
            + "the model cannot tell them apart. \(remedy)."
    }

    /// z-slices an atom-centred patch spanning `zExtent` Å needs to keep stacked atoms apart: an
    /// odd number (one slice through the atom's own plane), the fewest whose spacing the
    /// rasteriser's sampling rule accepts for Gaussians of width `sigma`.
    public static func separatingDepth(zExtent: Double, sigma: Double) -> Int {
        guard zExtent > 0, zExtent.isFinite, sigma > 0, sigma.isFinite else { return 1 }
        let intervals = (zExtent / (RasterBudget.coarsestSpacingInSigmas * sigma)).rounded(.up)
        guard intervals < Double(RasterBudget.depth - 1) else { return RasterBudget.depth - 1 }
        let even = max(2, Int(intervals) + Int(intervals) % 2)
        return even + 1
    }

    /// The first pair of real atoms (of one species, if asked) closer than `sigma` in x–y and
    /// further than `sigma` apart in z.
    static func mergedPair(_ structure: Structure, sigma: Double, sameSpecies: Bool = false) -> (Int, Int)? {
        let atoms = structure.realAtoms
        for (k, i) in atoms.enumerated() {
            for j in atoms[(k + 1)...] where !sameSpecies || structure.symbols[i] == structure.symbols[j] {
                let d = structure.positions[j] - structure.positions[i]
                if d.x * d.x + d.y * d.y < sigma * sigma && abs(d.z) > sigma { return (i, j) }
            }
        }
        return nil
    }
}
