import Basics

/// Turns a site-table row into a structure with coordinates.
///
/// `fcc111Top` is the top-site environment of the HEA CO2RR study on fcc(111): the centre atom
/// under the adsorbate, its six surface neighbours and the three subsurface atoms below the
/// hollows around it, in the order of the table's site columns (see Docs/Usage.md).
public struct SiteTemplate: Sendable {
    /// Site labels in column order.
    public let siteLabels: [String]
    /// Position of each site in Å (centre atom at the origin, surface in the z = 0 plane).
    public let positions: [SIMD3<Double>]
    /// Where the adsorbate marker sits.
    public let adsorbatePosition: SIMD3<Double>

    /// The fcc(111) top site with nearest-neighbour distance `d` (Å) and the adsorbate marker
    /// `height` Å above the centre atom.
    /// The nearest-neighbour distance (Å) and adsorbate-marker height (Å) SiteLens uses unless told.
    public static let seedNearestNeighbour = 2.5, seedAdsorbateHeight = 1.9

    public static func fcc111Top(nearestNeighbour d: Double = seedNearestNeighbour,
                                 adsorbateHeight height: Double = seedAdsorbateHeight) -> SiteTemplate {
        let labels = ["T/B1", "B2/Nsur1", "Nsur2", "Nsur3", "Nsur4", "Nsur5", "Nsur6", "Nsub1", "Nsub2", "Nsub3"]
        var positions: [SIMD3<Double>] = [SIMD3(0, 0, 0)]
        // Six surface neighbours at distance d, every 60° starting along +x.
        for k in 0..<6 {
            let angle = Double(k) * Double.pi / 3
            positions.append(SIMD3(d * cosine(angle), d * sine(angle), 0))
        }
        // The layer below lies d·√(2/3) deeper; its atoms sit under every other hollow of the
        // centre, d/√3 away in the plane, at 30°, 150° and 270°.
        let depth = d * (2.0 / 3.0).squareRoot()
        let lateral = d / 3.0.squareRoot()
        for k in 0..<3 {
            let angle = Double.pi / 6 + Double(k) * 2 * Double.pi / 3
            positions.append(SIMD3(lateral * cosine(angle), lateral * sine(angle), -depth))
        }
        return SiteTemplate(siteLabels: labels, positions: positions, adsorbatePosition: SIMD3(0, 0, height))
    }

    /// The structure of one row: its elements at the template's sites, plus the adsorbate marker
    /// (a dummy atom, site label "adsorbate") when the row names a group, and the row's target energy.
    public func structure(elements: [String], energy: Double?, adsorbate: String?, info: [String: String] = [:]) throws -> Structure {
        guard elements.count == positions.count else {
            throw InputError(file: "site template", "the fcc(111) top-site template has \(positions.count) sites; the table gives \(elements.count)")
        }
        var symbols = elements
        var coordinates = positions
        var labels = siteLabels
        var details = info
        if let adsorbate {
            symbols.append(Structure.dummySymbol)
            coordinates.append(adsorbatePosition)
            labels.append("adsorbate")
            details["adsorbate"] = adsorbate
        }
        return Structure(symbols: symbols, positions: coordinates, energy: energy, siteLabels: labels, info: details)
    }

    /// The same geometry with the site labels of a table's columns (what `train` labels a site
    /// table's structures by, and what `screen` builds its candidates with).
    public func relabelled(_ siteNames: [String]) -> SiteTemplate {
        SiteTemplate(siteLabels: siteNames, positions: positions, adsorbatePosition: adsorbatePosition)
    }

    /// Every row of `table` as a structure; the labels are the table's column names.
    public func structures(from table: SiteTable) throws -> [Structure] {
        let relabelled = relabelled(table.siteNames)
        return try table.rows.map {
            try relabelled.structure(elements: $0.elements, energy: $0.target, adsorbate: $0.group,
                                     info: ["line": "\($0.line)"])
        }
    }
}

#if canImport(Glibc)
import Glibc
func cosine(_ x: Double) -> Double { Glibc.cos(x) }
func sine(_ x: Double) -> Double { Glibc.sin(x) }
#else
import Foundation
func cosine(_ x: Double) -> Double { Foundation.cos(x) }
func sine(_ x: Double) -> Double { Foundation.sin(x) }
#endif
