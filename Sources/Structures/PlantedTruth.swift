import Basics
import Foundation

/// A site data set with a known additive energy, for checking that training and decomposition
/// recover what was planted: E = E0 + Σ_sites c(s, e_s) + noise.
///
/// c(s, e) = a_s · (w_s · z(e)), with z(e) the element's standardised [group, period,
/// electronegativity] and a_s falling from the centre site outwards, so the truth lies in what a
/// descriptor-fed site network can express.
public struct PlantedTruth: Sendable {
    public let siteNames: [String]
    public let elements: [String]
    /// contributions[s][e] in eV.
    public let contributions: [[Double]]
    public let baseline: Double
    public let noise: Double

    public init(elements: [String] = ["Fe", "Co", "Ni", "Cu", "Mo"], noise: Double = 0.01, baseline: Double = -2.0) throws {
        let template = SiteTemplate.fcc111Top()
        siteNames = template.siteLabels
        self.elements = elements
        self.noise = noise
        self.baseline = baseline
        let descriptors = try ElementDescriptors.lookUp(for: elements)
        let raw = try elements.map { try descriptors.vector($0) }
        let width = raw[0].count
        let means = (0..<width).map { k in raw.map { $0[k] }.reduce(0, +) / Double(raw.count) }
        let scales = (0..<width).map { k -> Double in
            let v = raw.map { ($0[k] - means[k]) * ($0[k] - means[k]) }.reduce(0, +) / Double(raw.count)
            return v > 0 ? v.squareRoot() : 1
        }
        let z = raw.map { r in (0..<width).map { (r[$0] - means[$0]) / scales[$0] } }
        // Centre strongest, the surface ring next, the layer below weakest.
        let amplitude: [Double] = [0.30, 0.16, 0.14, 0.12, 0.16, 0.14, 0.12, 0.07, 0.06, 0.05]
        let mixes: [[Double]] = [[0.3, 0.2, 1.0], [1.0, 0.1, 0.2], [0.5, -0.6, 0.4]]
        contributions = (0..<siteNames.count).map { s in
            z.map { ze in amplitude[s] * zip(mixes[s % mixes.count], ze).map(*).reduce(0, +) }
        }
    }

    /// The element spread max_e c − min_e c at each site.
    public var elementSpread: [Double] { contributions.map { $0.max()! - $0.min()! } }

    /// `count` random rows as a site-table CSV (header `T/B1,...,Nsub3,Eads,Adsorbate`).
    public func siteTable(count: Int, seed: UInt64) -> String {
        var generator = SeededGenerator(seed: seed)
        var lines = [(siteNames + ["Eads", "Adsorbate"]).joined(separator: ",")]
        for _ in 0..<count {
            let choice = siteNames.indices.map { _ in generator.nextIndex(below: elements.count) }
            var energy = baseline + noise * generator.nextGaussian()
            for (s, e) in choice.enumerated() { energy += contributions[s][e] }
            lines.append((choice.map { elements[$0] } + [String(format: "%.6f", energy), "COOH"]).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The truth as CSV: site, element, contribution, and the centred value (minus the site's mean).
    public var truthTable: String {
        var lines = ["site,element,contribution,centred"]
        for (s, site) in siteNames.enumerated() {
            let mean = contributions[s].reduce(0, +) / Double(elements.count)
            for (e, element) in elements.enumerated() {
                lines.append("\(site),\(element),\(String(format: "%.6f", contributions[s][e])),\(String(format: "%.6f", contributions[s][e] - mean))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
